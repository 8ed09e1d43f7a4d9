"""mtlib.measures: each measure against the chapter's own NumPy version (the numbers the book
prints), an independent slow reference (brute force, scipy), its invariances (rotation of the
circle, relabelling tokens, time shifts), and bad input."""

import itertools

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import directed_hausdorff, squareform

import mtlib as mt
from mtlib import measures

try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # optional: the property tests are collected and skipped without it
    given = None

needs_hypothesis = pytest.mark.skipif(given is None, reason="hypothesis is not installed")
if given is None:

    class _Stub:
        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    st = _Stub()

    def given(*args, **kwargs):
        return lambda f: f

    def settings(*args, **kwargs):
        return lambda f: f


TWO_PI = 2 * np.pi


def same_partition(a, b):
    """True when two label arrays define the same partition of the tokens."""
    pairs = {(x, y) for x, y in zip(a, b)}
    return len(pairs) == len(set(a)) == len(set(b))


def arc(a, b):
    """Geodesic distance on the circle, by the complex exponential (independent of mtlib)."""
    return np.abs(np.angle(np.exp(1j * (np.asarray(a) - np.asarray(b)))))


# ---------------------------------------------------------------- find_clusters


def single_linkage_circle(theta, radius):
    d = arc(theta[:, None], theta[None, :])
    return fcluster(linkage(squareform(d, checks=False), "single"), radius, criterion="distance")


def test_circle_groups_are_exact_single_linkage():
    rng = np.random.default_rng(0)
    for trial in range(40):
        theta = rng.uniform(-7, 7, int(rng.integers(2, 60)))
        radius = float(rng.uniform(0.05, 0.6))
        found = mt.find_clusters(theta, radius=radius, min_mass=0.0)
        assert same_partition(found.labels, single_linkage_circle(theta, radius))


def test_equally_spaced_clusters_across_zero_are_found_with_their_masses():
    rng = np.random.default_rng(1)
    centres = np.mod(np.array([0.0, 2.0, 4.0]) - 0.01, 2 * np.pi)  # one cluster straddles 0
    sizes = [500, 300, 200]
    theta = np.concatenate([c + rng.uniform(-0.05, 0.05, m) for c, m in zip(centres, sizes)])
    theta = np.concatenate([theta, [1.0, 3.0, 5.1]])  # three stray tokens between clusters
    found = mt.find_clusters(theta)
    assert found.count == 3
    assert np.allclose(found.masses, np.array(sizes) / theta.size)
    assert np.allclose(np.abs(np.angle(np.exp(1j * (found.centres - centres)))), 0.0, atol=0.01)
    assert np.sum(found.labels == -1) == 3
    assert np.all(found.spreads <= 0.06)
    # the same tokens as points (cos θ, sin θ) give the same clusters
    points = np.column_stack([np.cos(theta), np.sin(theta)])
    assert same_partition(mt.find_clusters(points).labels, found.labels)


def test_one_cluster_without_gaps_and_weights_are_used():
    theta = np.linspace(0, 2 * np.pi, 100, endpoint=False)
    assert mt.find_clusters(theta).count == 1
    w = np.array([0.97, 0.01, 0.01, 0.01])
    found = mt.find_clusters(np.array([0.0, 1.0, 2.0, 3.0]), weights=w)
    assert found.count == 1 and found.masses[0] == pytest.approx(0.97)


def test_sphere_caps_are_found_and_rotations_move_only_the_centres():
    rng = np.random.default_rng(2)
    centres = np.linalg.qr(rng.standard_normal((5, 5)))[0][:3]  # three orthonormal centres in d = 5
    X = mt.caps_sphere(centres, [400, 250, 150], 0.05, rng=rng)
    found = mt.find_clusters(X)
    assert found.count == 3
    assert np.allclose(found.masses, [0.5, 0.3125, 0.1875])
    assert np.all(np.max(found.centres @ centres.T, axis=1) > 0.995)
    Q = np.linalg.qr(rng.standard_normal((5, 5)))[0]
    rotated = mt.find_clusters(X @ Q.T)
    assert np.array_equal(rotated.labels, found.labels)
    assert np.allclose(rotated.centres, found.centres @ Q.T, atol=1e-12)
    # well separated: the same partition as exact single linkage
    d = np.arccos(np.clip(X @ X.T, -1, 1))
    np.fill_diagonal(d, 0.0)
    exact = fcluster(linkage(squareform(d, checks=False), "single"), 0.2, criterion="distance")
    assert same_partition(found.labels, exact)


def test_find_clusters_bad_input():
    with pytest.raises(ValueError, match="radius"):
        mt.find_clusters([0.0, 1.0], radius=0.0)
    with pytest.raises(ValueError, match="min_mass"):
        mt.find_clusters([0.0, 1.0], min_mass=1.0)
    with pytest.raises(ValueError, match="finite"):
        mt.find_clusters([0.0, np.nan])
    with pytest.raises(ValueError, match="unit norm"):
        mt.find_clusters(2 * np.eye(3))


# ---------------------------------------------------------------- circular_difference


def test_circular_difference_is_the_chapters_formula_and_the_geodesic():
    rng = np.random.default_rng(3)
    a, b = rng.uniform(-20, 20, 2000), rng.uniform(-20, 20, 2000)
    d = mt.circular_difference(a, b)
    assert np.array_equal(d, np.mod(a - b + np.pi, TWO_PI) - np.pi)  # ch. 5, bit for bit
    assert np.all((d >= -np.pi) & (d < np.pi))
    assert np.allclose(np.abs(d), arc(a, b), rtol=0, atol=1e-13)
    assert np.allclose(np.mod(b + d - a + np.pi, TWO_PI) - np.pi, 0.0, atol=1e-13)  # b + d ≡ a
    # invariances: rotating both angles, adding 2π to one, swapping them (away from ±π)
    phi = rng.uniform(-10, 10)
    assert np.allclose(mt.circular_difference(a + phi, b + phi), d, rtol=0, atol=1e-12)
    assert np.allclose(mt.circular_difference(a + TWO_PI, b), d, rtol=0, atol=1e-12)
    inner = np.abs(d) < np.pi - 1e-9
    assert np.allclose(mt.circular_difference(b, a)[inner], -d[inner], rtol=0, atol=1e-13)
    # small differences are exact to one rounding of a - b + π
    assert abs(mt.circular_difference(1.0 + 1e-9, 1.0) - 1e-9) < 5e-16
    assert isinstance(mt.circular_difference(0.5, 3.0), float)
    assert mt.circular_difference(np.zeros((3, 1)), np.arange(4.0)).shape == (3, 4)


def test_circular_difference_bad_input():
    with pytest.raises(ValueError, match="a must contain only finite"):
        mt.circular_difference(np.nan, 0.0)
    with pytest.raises(TypeError, match="b must be real"):
        mt.circular_difference(0.0, 1j)
    with pytest.raises(TypeError, match="a must be a numeric"):
        mt.circular_difference("x", 0.0)
    with pytest.raises(ValueError, match="a and b must broadcast"):
        mt.circular_difference(np.zeros(3), np.zeros(4))


# ---------------------------------------------------------------- circle_spacings, closest_pair


def test_circle_spacings_are_the_chapters_gaps():
    rng = np.random.default_rng(4)
    theta = rng.uniform(-10, 10, 50)
    s = np.sort(np.mod(theta, TWO_PI))
    gaps = mt.circle_spacings(theta)
    assert np.array_equal(gaps, np.diff(np.append(s, s[0] + 2 * np.pi)))  # ch. 8
    assert np.array_equal(mt.circle_spacings(s), np.diff(np.concatenate([s, s[:1] + TWO_PI])))  # ch. 3, 4
    assert gaps.sum() == pytest.approx(TWO_PI, abs=1e-12) and np.all(gaps >= 0)
    assert np.array_equal(mt.circle_spacings(rng.permutation(theta)), gaps)  # relabelling
    rotated = mt.circle_spacings(theta + 1.234)  # rotation: the same gaps, cyclically shifted
    shifts = [np.max(np.abs(np.roll(rotated, k) - gaps)) for k in range(gaps.size)]
    assert min(shifts) < 1e-12
    assert np.allclose(mt.circle_spacings(TWO_PI * np.arange(5) / 5 + 0.3), TWO_PI / 5, atol=1e-14)
    assert np.array_equal(mt.circle_spacings([1.0]), [TWO_PI])
    with pytest.raises(ValueError, match="theta must have 1 dimension"):
        mt.circle_spacings(np.zeros((2, 2)))


def closest_pair_brute(theta):
    """ch. 5: the matrix of geodesic distances (circle_gaps) and its argmin."""
    d = np.abs(np.mod(theta[:, None] - theta[None, :] + np.pi, TWO_PI) - np.pi)
    np.fill_diagonal(d, np.inf)
    a, b = np.unravel_index(np.argmin(d), d.shape)
    return {int(a), int(b)}, d[a, b]


def test_closest_pair_against_the_distance_matrix():
    rng = np.random.default_rng(5)
    for trial in range(200):
        theta = rng.uniform(-7, 7, int(rng.integers(2, 40)))
        i, j, dist = mt.closest_pair(theta)
        pair, d_brute = closest_pair_brute(theta)
        assert i < j and {i, j} == pair
        assert dist == pytest.approx(d_brute, rel=0, abs=1e-15)
        perm = rng.permutation(theta.size)  # relabelling moves the indices with the tokens
        pi, pj, _ = mt.closest_pair(theta[perm])
        assert {perm[pi], perm[pj]} == pair
        _, _, d_rot = mt.closest_pair(theta + rng.uniform(-5, 5))  # rotation keeps the distance
        assert d_rot == pytest.approx(dist, abs=1e-12)
    assert mt.closest_pair([0.1, 3.0, 0.1]) == (0, 2, 0.0)
    with pytest.raises(ValueError, match="at least 2"):
        mt.closest_pair([1.0])


# ---------------------------------------------------------------- merge_coincident


def merge_step_ch5(theta_c, m_c):
    """ch. 5: merge the closest pair if it has collapsed (below 1e-9), appended at the end."""
    d = np.abs(np.mod(theta_c[:, None] - theta_c[None, :] + np.pi, TWO_PI) - np.pi)
    np.fill_diagonal(d, np.inf)
    a, b = np.unravel_index(np.argmin(d), d.shape)
    if d[a, b] >= 1e-9:
        return theta_c, m_c
    new = theta_c[a] + m_c[b] / (m_c[a] + m_c[b]) * (np.mod(theta_c[b] - theta_c[a] + np.pi, TWO_PI) - np.pi)
    keep = [j for j in range(theta_c.size) if j not in (a, b)]
    return np.mod(np.append(theta_c[keep], new), TWO_PI), np.append(m_c[keep], m_c[a] + m_c[b])


def merge_close_ch8(theta, w, members, tol=1e-7):
    """ch. 8: replace particles closer than tol by their weighted mean direction."""
    theta, w, members = list(np.mod(theta, 2 * np.pi)), list(w), list(members)
    k = 0
    while k < len(theta):
        close = [j for j in range(k + 1, len(theta)) if abs(np.angle(np.exp(1j * (theta[j] - theta[k])))) < tol]
        if not close:
            k += 1
            continue
        j = close[0]
        z = w[k] * np.exp(1j * theta[k]) + w[j] * np.exp(1j * theta[j])
        theta[k], w[k], members[k] = np.angle(z), w[k] + w[j], members[k] + members[j]
        del theta[j], w[j], members[j]
    return np.array(theta), np.array(w), members


def merge_brute(theta, w, tol):
    """Union-find over all pairs closer than tol; each group at its arc centre of mass."""
    n = theta.size
    parent = list(range(n))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(n), 2):
        if arc(theta[i], theta[j]) < tol:
            parent[root(j)] = root(i)
    groups = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    out = []
    for members in groups.values():
        ref = theta[members[0]]
        lifted = ref + np.angle(np.exp(1j * (theta[members] - ref)))
        out.append((np.mod(np.sum(w[members] * lifted) / np.sum(w[members]), TWO_PI), np.sum(w[members]), members))
    return out


def clustered_configuration(rng, n_groups, max_size, spread):
    """Groups of points within `spread` of well-separated centres, shuffled."""
    centres = np.sort(rng.uniform(0, TWO_PI, n_groups))
    while n_groups > 1 and np.min(np.diff(np.append(centres, centres[0] + TWO_PI))) < 0.1:
        centres = np.sort(rng.uniform(0, TWO_PI, n_groups))
    sizes = rng.integers(1, max_size + 1, n_groups)
    theta = np.concatenate([c + rng.uniform(-spread, spread, s) for c, s in zip(centres, sizes)])
    w = rng.uniform(0.1, 1.0, theta.size)
    perm = rng.permutation(theta.size)
    return np.mod(theta[perm], TWO_PI), w[perm] / w.sum()


def check_against_brute(theta, w, tol):
    merged = mt.merge_coincident(theta, w, tol=tol)
    brute = merge_brute(theta, w, tol)
    brute_labels = np.empty(theta.size, dtype=int)
    for k, (_, _, members) in enumerate(brute):
        brute_labels[members] = k
    assert merged.count == len(brute) and same_partition(merged.labels, brute_labels)
    for centre, mass, members in brute:
        k = merged.labels[members[0]]
        assert arc(merged.centres[k], centre) < 1e-14
        assert merged.masses[k] == pytest.approx(mass, rel=1e-14)
        assert merged.spreads[k] == pytest.approx(np.max(arc(theta[members], centre)), abs=1e-14)
    return merged


def test_merge_coincident_reproduces_the_chapter_5_step_bit_for_bit():
    rng = np.random.default_rng(6)
    for trial in range(50):
        theta = np.sort(rng.uniform(0, TWO_PI, 6))
        m = rng.uniform(0.05, 0.3, 6)
        m /= m.sum()
        a, b = rng.choice(6, 2, replace=False)
        theta[b] = np.mod(theta[a] + rng.uniform(-5e-10, 5e-10), TWO_PI)  # a pair has collapsed
        ref_theta, ref_m = merge_step_ch5(theta, m)
        merged = mt.merge_coincident(theta, m, tol=1e-9)
        assert np.array_equal(merged.centres, ref_theta) and np.array_equal(merged.masses, ref_m)
        assert np.array_equal(merged.centres[merged.labels[[a, b]]], ref_theta[[-1, -1]])
    same = mt.merge_coincident(theta[:1].repeat(1), m[:1], tol=1e-9)  # a single point stays
    assert np.array_equal(same.centres, theta[:1]) and same.count == 1


def test_merge_coincident_agrees_with_chapter_8():
    rng = np.random.default_rng(7)
    for trial in range(50):
        theta, w = clustered_configuration(rng, int(rng.integers(1, 6)), 3, 2e-8)
        ref_theta, ref_w, ref_members = merge_close_ch8(theta, w, [[k] for k in range(theta.size)])
        merged = mt.merge_coincident(theta, w, tol=1e-7)
        assert merged.count == ref_theta.size
        for angle, mass, members in zip(ref_theta, ref_w, ref_members):
            k = merged.labels[members[0]]
            assert np.all(merged.labels[members] == k) and np.sum(merged.labels == k) == len(members)
            assert arc(merged.centres[k], angle) < 4e-15 and merged.masses[k] == pytest.approx(mass, rel=1e-15)


def test_merge_coincident_against_brute_force_and_its_invariances():
    rng = np.random.default_rng(8)
    for trial in range(60):
        tol = 10.0 ** rng.uniform(-9, -2)
        theta, w = clustered_configuration(rng, int(rng.integers(1, 8)), 4, tol / 10)
        merged = check_against_brute(theta, w, tol)
        # relabelling: the same clusters, the labels follow the tokens
        perm = rng.permutation(theta.size)
        relabelled = mt.merge_coincident(theta[perm], w[perm], tol=tol)
        assert same_partition(relabelled.labels, merged.labels[perm])
        for k in range(merged.count):
            j = relabelled.labels[perm == np.flatnonzero(merged.labels == k)[0]][0]
            assert arc(relabelled.centres[j], merged.centres[k]) < 1e-14
            assert relabelled.masses[j] == pytest.approx(merged.masses[k], rel=1e-14)
        # rotation: the same partition, centres rotated
        phi = rng.uniform(-10, 10)
        rotated = mt.merge_coincident(theta + phi, w, tol=tol)
        assert np.array_equal(rotated.labels, merged.labels)
        assert np.all(arc(rotated.centres, merged.centres + phi) < 1e-12)
        # the weighted centre of mass along the arc is conserved
        for k in range(merged.count):
            inside = merged.labels == k
            moment = np.sum(w[inside] * mt.circular_difference(theta[inside], merged.centres[k]))
            assert abs(moment) < 4e-15
        assert merged.masses.sum() == pytest.approx(w.sum(), rel=1e-14)  # the total mass is kept


def test_merge_coincident_without_a_merge_returns_the_points():
    theta = np.array([0.5, 2.0, 4.0, 6.0])
    merged = mt.merge_coincident(theta, [0.1, 0.2, 0.3, 0.4])
    assert np.array_equal(merged.centres, theta) and np.array_equal(merged.labels, np.arange(4))
    assert np.array_equal(merged.masses, [0.1, 0.2, 0.3, 0.4]) and np.all(merged.spreads == 0)
    two = mt.merge_coincident([1.0, 1.0 + 1e-12])  # two points: one link, not two
    assert two.count == 1 and two.masses[0] == 1.0 and two.centres[0] == pytest.approx(1.0 + 5e-13, abs=1e-15)
    across = mt.merge_coincident([TWO_PI - 1e-11, 1e-11], [0.25, 0.75])  # a group across 0
    assert across.count == 1 and arc(across.centres[0], 0.5e-11) < 4e-15


def test_merge_coincident_bad_input():
    with pytest.raises(ValueError, match="weights must be positive"):
        mt.merge_coincident([0.0, 1.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="weights must have shape"):
        mt.merge_coincident([0.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="tol must be > 0"):
        mt.merge_coincident([0.0, 1.0], tol=0.0)
    with pytest.raises(TypeError, match="tol must be a real"):
        mt.merge_coincident([0.0, 1.0], tol="small")
    with pytest.raises(ValueError, match="every point is within tol"):
        mt.merge_coincident(np.linspace(0, TWO_PI, 100, endpoint=False), tol=0.1)
    with pytest.raises(ValueError, match="half the circle"):
        mt.merge_coincident(np.linspace(0, 3.5, 100), tol=0.1)


@needs_hypothesis
@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_groups=st.integers(1, 6),
    log_tol=st.floats(-9, -2),
)
def test_merge_coincident_property(seed, n_groups, log_tol):
    rng = np.random.default_rng(seed)
    tol = 10.0**log_tol
    theta, w = clustered_configuration(rng, n_groups, 4, tol / 10)
    merged = check_against_brute(theta, w, tol)
    assert merged.count == n_groups  # groups of spread tol/10, centres 0.1 apart
    again = mt.merge_coincident(merged.centres, merged.masses, tol=tol)  # merging is idempotent
    assert again.count == merged.count and np.array_equal(again.centres, merged.centres)


# ---------------------------------------------------------------- histogram_peaks, density_peaks


def cluster_centres_ch3(theta, bins=256, factor=3.0, halfwidth=0.25):
    """ch. 3: peaks of the smoothed histogram, refined by the circular mean within halfwidth."""
    theta = np.mod(theta, TWO_PI)
    counts, _ = np.histogram(theta, bins=bins, range=(0, TWO_PI))
    density = counts / (theta.size * TWO_PI / bins)
    kernel = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    smooth = np.convolve(np.concatenate([density[-6:], density, density[:6]]), kernel / kernel.sum(), "valid")
    peak = (smooth > np.roll(smooth, 1)) & (smooth >= np.roll(smooth, -1)) & (smooth > factor / TWO_PI)
    centres = []
    for i in np.flatnonzero(peak):
        near = theta[np.abs(np.angle(np.exp(1j * (theta - (i + 0.5) * TWO_PI / bins)))) < halfwidth]
        centres.append(np.mod(np.angle(np.mean(np.exp(1j * near))), TWO_PI))
    return np.sort(np.array(centres))


def bumps(rng, centres, n, width):
    """n tokens in von Mises bumps of concentration 1/width² at the centres, plus 20% uniform."""
    k = len(centres)
    theta = np.concatenate([rng.vonmises(c, 1 / width**2, int(0.8 * n) // k) for c in centres])
    return np.concatenate([theta, rng.uniform(0, TWO_PI, n - theta.size)])


def test_histogram_peaks_reproduce_chapter_3_and_find_the_bumps():
    rng = np.random.default_rng(9)
    for trial in range(12):
        k = int(rng.integers(2, 6))
        centres = np.mod(rng.uniform(0, TWO_PI) + TWO_PI * np.arange(k) / k, TWO_PI)
        theta = bumps(rng, centres, 20_000, 0.05)
        found = mt.histogram_peaks(theta)
        assert np.array_equal(found, cluster_centres_ch3(theta))
        assert np.array_equal(mt.histogram_peaks(theta, 128, 2.0, 0.4), cluster_centres_ch3(theta, 128, 2.0, 0.4))
        assert found.size == k
        assert np.max(arc(np.sort(centres)[None, :], found[:, None]).min(axis=1)) < 0.01
        # relabelling the tokens and rotating by whole bins change nothing but the positions
        assert np.allclose(mt.histogram_peaks(rng.permutation(theta)), found, rtol=0, atol=1e-12)
        shift = 17 * TWO_PI / 256
        rotated = np.sort(np.mod(mt.histogram_peaks(theta + shift) - shift, TWO_PI))
        assert np.all(arc(rotated, found) < 1e-9)
    assert mt.histogram_peaks(np.linspace(0, TWO_PI, 1000, endpoint=False)).size == 0  # uniform: none


def test_histogram_peaks_bad_input():
    with pytest.raises(ValueError, match="bins must be >= 13"):
        mt.histogram_peaks([0.0, 1.0], bins=8)
    with pytest.raises(ValueError, match="height must be > 0"):
        mt.histogram_peaks([0.0, 1.0], height=0.0)
    with pytest.raises(ValueError, match="radius must be >="):
        mt.histogram_peaks([0.0, 1.0], radius=0.1)
    with pytest.raises(ValueError, match="theta must have 1 dimension"):
        mt.histogram_peaks(np.zeros((3, 2)))


def peaks_ch4(density, height=10.0, window=20):
    """ch. 4: positions and masses of the peaks of a grid density (split at the minima)."""
    M = density.size
    theta = TWO_PI * np.arange(M) / M
    r = TWO_PI * density
    local_max = np.all([r >= np.roll(r, s) for s in range(-window, window + 1)], axis=0)
    top = np.flatnonzero(local_max & (r > height))
    bounds = []
    for a, b in zip(top, np.roll(top, -1)):
        span = np.arange(a, b + (M if b <= a else 0)) % M
        bounds.append(span[np.argmin(r[span])])
    cell_mass = density * TWO_PI / M
    masses = [cell_mass[np.arange(lo + 1, hi + 1 + (M if hi <= lo else 0)) % M].sum()
              for lo, hi in zip(np.roll(bounds, 1), bounds)]
    return theta[top], np.array(masses)


def von_mises_density(grid, centres, masses, kappa):
    rho = sum(m * np.exp(kappa * (np.cos(grid - c) - 1)) for c, m in zip(centres, masses))
    return rho / (np.sum(rho) * TWO_PI / grid.size)


def test_density_peaks_reproduce_chapter_4_and_find_positions_and_masses():
    M = 1024
    grid = mt.pde_grid(M)
    assert np.array_equal(grid, TWO_PI * np.arange(M) / M)
    rng = np.random.default_rng(10)
    for trial in range(20):
        k = int(rng.integers(1, 6))
        j0 = int(rng.integers(0, M))
        centres = grid[(j0 + np.arange(k) * (M // k)) % M]  # equally spaced on grid points
        rho = von_mises_density(grid, centres, np.ones(k), 1000.0)
        rho += 1e-3 * rng.uniform(size=M) / TWO_PI
        rho /= np.sum(rho) * TWO_PI / M
        pos, mass = mt.density_peaks(rho)
        ref_pos, ref_mass = peaks_ch4(rho)
        assert np.array_equal(pos, ref_pos) and np.array_equal(mass, ref_mass)
        assert np.array_equal(pos, np.sort(centres))
        assert np.allclose(mass, 1.0 / k, atol=2e-3) and mass.sum() == pytest.approx(1.0, abs=1e-12)
        # rotating by whole grid points rotates the positions and keeps the masses
        m = int(rng.integers(1, M))
        pos_r, mass_r = mt.density_peaks(np.roll(rho, m))
        assert np.allclose(np.sort(np.mod(pos_r - grid[m], TWO_PI)), pos, atol=1e-12)
        assert np.allclose(np.sort(mass_r), np.sort(mass), rtol=1e-12)
    uneven, mass = mt.density_peaks(von_mises_density(grid, [1.0, 3.0], [0.7, 0.3], 200.0), height=5.0)
    assert np.allclose(uneven, grid[np.round(np.array([1.0, 3.0]) / (TWO_PI / M)).astype(int)])
    assert np.allclose(mass, [0.7, 0.3], atol=1e-6)
    flat_pos, flat_mass = mt.density_peaks(np.full(64, 1 / TWO_PI), window=5)
    assert flat_pos.size == 0 and flat_mass.size == 0


def test_density_peaks_bad_input():
    with pytest.raises(ValueError, match="window must be <= 31"):
        mt.density_peaks(np.ones(64), window=32)
    with pytest.raises(ValueError, match="window must be >= 1"):
        mt.density_peaks(np.ones(64), window=0)
    with pytest.raises(ValueError, match="height must be > 0"):
        mt.density_peaks(np.ones(64), height=-1.0)
    with pytest.raises(ValueError, match="density must contain only finite"):
        mt.density_peaks(np.full(64, np.inf))


# ---------------------------------------------------------------- match_error


def match_error_ch3(predicted, observed):
    """ch. 3: largest distance from a predicted position to its nearest observed centre."""
    if len(observed) == 0:
        return np.inf
    return max(np.min(np.abs(np.angle(np.exp(1j * (p - np.asarray(observed)))))) for p in predicted)


def bottleneck_brute(predicted, observed):
    """Best one-to-one matching: min over permutations of the largest distance."""
    return min(np.max(arc(predicted, observed[list(p)])) for p in itertools.permutations(range(observed.size)))


def test_match_error_against_chapter_3_hausdorff_and_matchings():
    rng = np.random.default_rng(11)
    for trial in range(100):
        k = int(rng.integers(1, 6))
        predicted = rng.uniform(-7, 7, k)
        observed = rng.uniform(0, TWO_PI, int(rng.integers(1, 7)))
        e = mt.match_error(predicted, observed)
        assert e == pytest.approx(match_error_ch3(predicted, observed), abs=1e-14)
        P, O = (np.column_stack([np.cos(x), np.sin(x)]) for x in (predicted, observed))
        chord = directed_hausdorff(P, O)[0]
        assert e == pytest.approx(2 * np.arcsin(min(chord / 2, 1.0)), abs=1e-7)
        phi = rng.uniform(-10, 10)
        assert mt.match_error(predicted + phi, observed + phi) == pytest.approx(e, abs=1e-12)
        assert mt.match_error(rng.permutation(predicted), rng.permutation(observed)) == e
        if observed.size == k:
            best = bottleneck_brute(predicted, observed)
            assert e <= best + 1e-14  # a lower bound of every matching ...
            nearest = np.argmin(arc(predicted[:, None], observed[None, :]), axis=1)
            if np.unique(nearest).size == k:  # ... equal to the best when the nearest are distinct
                assert e == pytest.approx(best, abs=1e-14)
    centres = TWO_PI * np.arange(4) / 4
    assert mt.match_error(centres + 0.05, centres) == pytest.approx(0.05, abs=1e-14)
    assert mt.match_error([1.0], []) == np.inf


def test_match_error_bad_input():
    with pytest.raises(ValueError, match="predicted must hold at least 1"):
        mt.match_error([], [1.0])
    with pytest.raises(ValueError, match="observed must have 1 dimension"):
        mt.match_error([1.0], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="predicted must contain only finite"):
        mt.match_error([np.nan], [1.0])


# ---------------------------------------------------------------- order parameter


def test_order_parameter():
    rng = np.random.default_rng(7)
    theta = rng.uniform(0, 2 * np.pi, 50)
    m = np.hypot(np.cos(theta).mean(), np.sin(theta).mean())
    assert measures.order_parameter(theta) == pytest.approx(m, abs=1e-14)
    X = np.column_stack([np.cos(theta), np.sin(theta)])
    assert mt.order_parameter(X) == pytest.approx(m, abs=1e-14)
    traj = np.stack([theta, theta + 1.0, np.zeros(50)])
    assert np.allclose(mt.order_parameter(traj, angles=True), [m, m, 1.0])
    assert np.allclose(mt.order_parameter(np.stack([X, X])), [m, m])
    w = rng.uniform(size=50)
    w /= w.sum()
    assert mt.order_parameter(theta, weights=w) == pytest.approx(abs(np.exp(1j * theta) @ w), abs=1e-14)
    # relabelling and rotation leave |m| unchanged
    perm = rng.permutation(50)
    assert mt.order_parameter(theta[perm], weights=w[perm]) == pytest.approx(mt.order_parameter(theta, weights=w), abs=1e-15)
    Q = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    Y = rng.standard_normal((30, 4))
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    assert mt.order_parameter(Y @ Q.T) == pytest.approx(mt.order_parameter(Y), abs=1e-14)


def test_order_parameter_bad_input():
    with pytest.raises(ValueError, match="angles=True"):
        mt.order_parameter(np.zeros((2, 3, 2)), angles=True)
    with pytest.raises(ValueError, match="angles=False"):
        mt.order_parameter(np.zeros(3), angles=False)
    with pytest.raises(ValueError, match="unit norm"):
        mt.order_parameter(2 * np.eye(3))
    with pytest.raises(ValueError, match="weights must sum to 1"):
        mt.order_parameter(np.zeros(3), weights=[1.0, 1.0, 1.0])


# ---------------------------------------------------------------- first_crossing


def following_time_ch1(w, t, δ):
    i = np.flatnonzero(w >= δ)
    if i.size == 0:
        return np.nan
    if i[0] == 0:
        return 0.0
    j = i[0]
    return t[j - 1] + (δ - w[j - 1]) * (t[j] - t[j - 1]) / (w[j] - w[j - 1])


def crossing_time_ch5(t, y, level):
    i = np.flatnonzero(np.diff(np.sign(y - level)) != 0)[0]
    return t[i] + (level - y[i]) * (t[i + 1] - t[i]) / (y[i + 1] - y[i])


def half_time_ch8(P_row, t):
    above = np.flatnonzero(P_row >= 0.5)
    return t[above[0]] if above.size else np.inf


def test_first_crossing_reproduces_the_chapters_bit_for_bit():
    rng = np.random.default_rng(12)
    t = np.linspace(0.0, 0.3, 31)
    for trial in range(200):
        w = np.exp(rng.uniform(5, 15) * t + rng.uniform(-6, -3)) * (1 + 0.05 * rng.standard_normal(t.size))
        δ = rng.uniform(0.01, 0.5)
        assert np.array_equal(mt.first_crossing(t, w, δ, direction=1), following_time_ch1(w, t, δ), equal_nan=True)
        y = np.cumsum(rng.standard_normal(t.size))
        level = rng.uniform(y.min(), y.max())
        if y[0] != level:
            assert mt.first_crossing(t, y, level) == crossing_time_ch5(t, y, level)
        P = np.sort(rng.uniform(0, 1, t.size))
        ch8 = half_time_ch8(P, t)
        ours = mt.first_crossing(t, P, 0.5, direction=1, interpolate=False)
        assert ours == ch8 or (np.isnan(ours) and np.isinf(ch8))


def test_first_crossing_of_lines_and_its_invariances():
    t = np.linspace(-1.0, 2.0, 13)
    y = 3.0 * t + 1.0  # crosses level L at (L - 1)/3
    for level in (-1.5, 0.2, 4.9):
        assert mt.first_crossing(t, y, level) == pytest.approx((level - 1.0) / 3.0, abs=1e-14)
        assert mt.first_crossing(t, -y, -level, direction=-1) == pytest.approx((level - 1.0) / 3.0, abs=1e-14)
        assert mt.first_crossing(t, y, level, direction=-1) == t[0]  # starts below: reached at once
    assert np.isnan(mt.first_crossing(t, y, -5.0, direction=-1))  # y never comes down to -5
    assert mt.first_crossing(t, y, -5.0, direction=1) == t[0]  # starts above: reached at once
    assert np.isnan(mt.first_crossing(t, y, 10.0))  # never reached
    assert mt.first_crossing(t, y, y[0]) == t[0]
    rng = np.random.default_rng(13)
    Y = np.cumsum(rng.standard_normal((4, 3, t.size)), axis=-1)
    rows = mt.first_crossing(t, Y, 0.5)
    assert rows.shape == (4, 3)
    loop = np.array([[mt.first_crossing(t, Y[i, j], 0.5) for j in range(3)] for i in range(4)])
    assert np.array_equal(rows, loop, equal_nan=True)
    # time shift and level shift
    assert np.allclose(mt.first_crossing(t + 7.0, Y, 0.5), rows + 7.0, equal_nan=True, atol=1e-12)
    assert np.allclose(mt.first_crossing(t, Y + 2.0, 2.5), rows, equal_nan=True, atol=1e-12)
    # the interpolated curve equals the level at the crossing
    for row, tc in zip(Y.reshape(-1, t.size), rows.ravel()):
        if np.isfinite(tc):
            assert np.interp(tc, t, row) == pytest.approx(0.5, abs=1e-12)
            assert np.all((row[t < tc] - 0.5) * (row[0] - 0.5) > 0)


def test_first_crossing_bad_input():
    t = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="strictly increasing"):
        mt.first_crossing(t[::-1], t, 0.5)
    with pytest.raises(ValueError, match=r"y must have shape \(\.\.\., 5\)"):
        mt.first_crossing(t, t[:4], 0.5)
    with pytest.raises(ValueError, match="direction must be <= 1"):
        mt.first_crossing(t, t, 0.5, direction=2)
    with pytest.raises(TypeError, match="direction must be an integer"):
        mt.first_crossing(t, t, 0.5, direction=True)
    with pytest.raises(TypeError, match="level must be a real"):
        mt.first_crossing(t, t, None)
    with pytest.raises(TypeError, match="interpolate must be a bool"):
        mt.first_crossing(t, t, 0.5, interpolate="yes")
    with pytest.raises(ValueError, match="y must contain only finite"):
        mt.first_crossing(t, np.full(5, np.nan), 0.5)


@needs_hypothesis
@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.floats(-10, 10), min_size=2, max_size=30),
    level=st.floats(-10, 10),
    direction=st.sampled_from([-1, 0, 1]),
)
def test_first_crossing_property(values, level, direction):
    y = np.array(values)
    t = np.arange(y.size, dtype=float)
    tc = mt.first_crossing(t, y, level, direction=direction)
    reached = {1: y.max() >= level, -1: y.min() <= level, 0: y.min() <= level <= y.max()}[direction]
    assert np.isnan(tc) != reached
    if reached:
        assert t[0] <= tc <= t[-1]
        if tc > t[0]:  # not reached strictly before tc, reached at tc
            sign = direction or np.sign(level - y[0])
            before = np.interp(np.linspace(t[0], tc, 50)[:-1], t, y)
            assert np.all(sign * (before - level) < 1e-9)
            assert np.interp(tc, t, y) == pytest.approx(level, abs=1e-9)
        at_sample = mt.first_crossing(t, y, level, direction=direction, interpolate=False)
        assert at_sample in t and tc - 1e-12 <= at_sample <= tc + 1


# ---------------------------------------------------------------- fit_rate


def fitted_rate_ch7(t, y, low, high):
    keep = (y >= low) & (y <= high)
    if keep.sum() < 4:
        return np.nan
    return -np.polyfit(t[keep], np.log(y[keep]), 1)[0]


def test_fit_rate_of_exact_exponentials():
    t = np.linspace(0.0, 3.0, 40)
    for rate, c in ((2.5, -1.0), (-7.0, 3.0), (0.0, 0.5)):
        y = np.exp(c + rate * t)
        assert mt.fit_rate(t, y) == pytest.approx(rate, abs=1e-12)
        s, icpt = mt.fit_rate(t, y, return_intercept=True)
        assert s == pytest.approx(rate, abs=1e-12) and icpt == pytest.approx(c, abs=1e-12)
        # time shift: same rate, the prefactor moves; scaling y: same rate
        s2, icpt2 = mt.fit_rate(t + 1.5, y, return_intercept=True)
        assert s2 == pytest.approx(rate, abs=1e-11) and icpt2 == pytest.approx(c - 1.5 * rate, abs=1e-11)
        assert mt.fit_rate(t, 10.0 * y) == pytest.approx(rate, abs=1e-11)
    both = mt.fit_rate(t, np.stack([np.exp(2 * t), np.exp(-t)]))
    assert np.allclose(both, [2.0, -1.0], atol=1e-12)


def test_fit_rate_reproduces_the_chapters_bit_for_bit():
    rng = np.random.default_rng(14)
    t = np.linspace(0.0, 25.0, 36)
    for trial in range(50):
        y = np.exp(-rng.uniform(0.3, 2.0) * t) * (1 + 0.1 * rng.uniform(size=t.size))
        low, high = 10.0 ** rng.uniform(-12, -6), 10.0 ** rng.uniform(-4, -1)
        ours = -mt.fit_rate(t, y, low=low, high=high, min_points=4)
        assert np.array_equal(ours, fitted_rate_ch7(t, y, low, high), equal_nan=True)  # ch. 7
        window = (y > 2 * y[-1]) & (y < 0.1) & (np.arange(t.size) <= np.argmax(y < 0.05))
        if window.sum() >= 2:  # ch. 1, 4, 5, 6: polyfit over a mask, slope and intercept
            ref = np.polyfit(t[window], np.log(y[window]), 1)
            assert mt.fit_rate(t, y, where=window) == ref[0]
            assert mt.fit_rate(t, y, where=window, return_intercept=True) == (ref[0], ref[1])
    R = np.exp(np.outer(t[:11], rng.uniform(1, 3, 10)) + 0.01 * rng.standard_normal((11, 10)))
    ch3 = np.array([np.polyfit(t[:11], np.log(R[:, k]), 1)[0] for k in range(10)])  # ch. 3
    assert np.array_equal(mt.fit_rate(t[:11], R.T), ch3)


def test_fit_rate_windows_and_missing_windows():
    t = np.linspace(0.0, 10.0, 101)
    y = np.where(t < 5, np.exp(-t), np.exp(-5) * np.exp(-3 * (t - 5)))  # two regimes
    assert mt.fit_rate(t, y, high=np.exp(-5.5)) == pytest.approx(-3.0, abs=1e-10)
    assert mt.fit_rate(t, y, where=t <= 5) == pytest.approx(-1.0, abs=1e-10)
    rows = mt.fit_rate(t, np.stack([y, y]), where=np.stack([t <= 5, t > 5]))
    assert rows.shape == (2,) and np.allclose(rows, [-1.0, -3.0], atol=1e-10)
    assert np.isnan(mt.fit_rate(t, y, low=10.0))  # window not reached
    assert np.isnan(mt.fit_rate(t, y, where=t < 0.15, min_points=4))
    rate, icpt = mt.fit_rate(t, y, low=10.0, return_intercept=True)
    assert np.isnan(rate) and np.isnan(icpt)


def test_fit_rate_bad_input():
    t = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="y must be positive on the fitted samples"):
        mt.fit_rate(t, t)
    with pytest.raises(ValueError, match="low must be > 0"):
        mt.fit_rate(t, np.exp(t), low=0.0)
    with pytest.raises(ValueError, match="min_points must be >= 2"):
        mt.fit_rate(t, np.exp(t), min_points=1)
    with pytest.raises(TypeError, match="where must be a boolean"):
        mt.fit_rate(t, np.exp(t), where=[1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="where must have shape"):
        mt.fit_rate(t, np.exp(t), where=np.ones(4, bool))
    with pytest.raises(ValueError, match=r"y must have shape \(\.\.\., 5\)"):
        mt.fit_rate(t, np.exp(t[:3]))


@needs_hypothesis
@settings(max_examples=200, deadline=None)
@given(rate=st.floats(-20, 20), c=st.floats(-20, 20), n=st.integers(2, 50), span=st.floats(0.01, 10))
def test_fit_rate_property(rate, c, n, span):
    t = np.linspace(0.0, span, n)
    y = np.exp(c + rate * t)
    s, icpt = mt.fit_rate(t, y, return_intercept=True)
    assert s == pytest.approx(rate, abs=1e-8 * (1 + abs(rate)) / span)
    assert np.array_equal([s, icpt], np.polyfit(t, np.log(y), 1))
