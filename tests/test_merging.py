"""mtlib.merging: weighted clusters through their mergers against an independent brute-force
reference (NumPy field, tiny fixed RK4 steps, merge when a pair is within tol), the exact
two-cluster time (closed form at β = 0, quadrature otherwise), the chapters' own loop
(simulate + event + merge_coincident, bit for bit), invariances (rotation, relabelling),
conservation laws, and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

import mtlib as mt
from mtlib.merging import MergerResult, closest_pair_event, simulate_mergers

TWO_PI = 2 * np.pi


def numpy_field(theta, m, beta, model):
    """The weighted SA/USA field on the circle by the direct sum, in NumPy."""
    diff = theta[None, :] - theta[:, None]  # θ_b - θ_a
    e = np.exp(beta * np.cos(diff)) * m[None, :]
    v = np.sum(e * np.sin(diff), axis=1)
    return v / np.sum(e, axis=1) if model == "sa" else v


def brute_force(theta, m, beta, t_out, tol, model="usa", h=1e-3):
    """Tiny fixed RK4 steps; after every step the closest pair merges when within tol."""
    theta, m, carrier = np.array(theta, float), np.array(m, float), np.arange(len(theta))
    t, out, merges = 0.0, [], []
    for t_next in t_out:
        while t < t_next - 1e-12:
            step = min(h, t_next - t)
            if m.size > 1:
                k1 = numpy_field(theta, m, beta, model)
                k2 = numpy_field(theta + step / 2 * k1, m, beta, model)
                k3 = numpy_field(theta + step / 2 * k2, m, beta, model)
                k4 = numpy_field(theta + step * k3, m, beta, model)
                theta = theta + step / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            t += step
            while m.size > 1:
                d = np.abs(np.angle(np.exp(1j * (theta[:, None] - theta[None, :]))))
                d[np.diag_indices(m.size)] = np.inf
                i, j = np.unravel_index(np.argmin(d), d.shape)
                if d[i, j] > tol:
                    break
                i, j = min(i, j), max(i, j)
                c = theta[i] + m[j] / (m[i] + m[j]) * np.angle(np.exp(1j * (theta[j] - theta[i])))
                merges.append((t, set(np.flatnonzero(np.isin(carrier, (i, j))))))
                keep = [a for a in range(m.size) if a not in (i, j)]
                new = np.empty(m.size, int)
                new[keep], new[[i, j]] = np.arange(len(keep)), len(keep)
                carrier = new[carrier]
                theta, m = np.append(theta[keep], c), np.append(m[keep], m[i] + m[j])
        out.append(np.mod(theta[carrier], TWO_PI))
    return np.array(out), merges


def circle_close(a, b, atol):
    return np.all(np.abs(np.angle(np.exp(1j * (np.asarray(a) - np.asarray(b))))) < atol)


THETA4 = np.array([0.0, 0.9, 2.0, 3.6])
M4 = np.array([0.3, 0.2, 0.25, 0.25])


@pytest.mark.parametrize("model", ["usa", "sa"])
def test_brute_force_reference(model):
    beta, tol = 2.0, 1e-3
    t_out = np.linspace(0.0, 12.0, 25) if model == "usa" else np.linspace(0.0, 40.0, 21)
    res = simulate_mergers(THETA4, beta, t_out, weights=M4, tol=tol, model=model)
    ref_states, ref_merges = brute_force(THETA4, M4, beta, t_out, tol, model)
    assert len(res.t_merge) == len(ref_merges) >= 2
    for t_m, group, (t_ref, group_ref) in zip(res.t_merge, res.groups, ref_merges):
        assert set(group) == group_ref
        assert t_m <= t_ref + 1e-9 and t_ref - t_m < 2e-3  # the reference merges at a step end
    assert circle_close(res.states, ref_states, 1e-3)
    assert np.array_equal(res.count, [len(np.unique(s.round(8))) for s in ref_states])


def test_two_clusters_closed_form_kuramoto():
    # β = 0, USA, total mass 1: dΔ/dt = -sin Δ, so Δ reaches tol at ln(tan(Δ0/2)/tan(tol/2)).
    # The angles are known to about rtol, so the meeting time to about rtol / tol.
    d0, tol = 2.5, 1e-4
    res = simulate_mergers([0.3, 0.3 + d0], 0.0, [0.0, 20.0], weights=[0.4, 0.6], tol=tol,
                           rtol=1e-12, atol=1e-14)
    exact = np.log(np.tan(d0 / 2) / np.tan(tol / 2))
    assert res.t_merge.size == 1 and abs(res.t_merge[0] / exact - 1) < 1e-8
    assert np.all(np.isnan(res.energy))  # E_β is singular at β = 0
    assert circle_close(res.centres[1], 0.3 + 0.6 * d0, 1e-9)  # the conserved centre of mass


@pytest.mark.parametrize("model", ["usa", "sa"])
def test_two_clusters_quadrature(model):
    beta, d0, tol, m1, m2 = 3.0, 2.0, 1e-4, 0.35, 0.65

    def rate(d):  # -dΔ/dt for Δ = θ_2 - θ_1
        k = np.exp(beta * np.cos(d)) * np.sin(d)
        if model == "usa":
            return k
        ec = np.exp(beta * np.cos(d))
        return k * (m1 / (m2 * np.exp(beta) + m1 * ec) + m2 / (m1 * np.exp(beta) + m2 * ec))

    exact = quad(lambda d: 1 / rate(d), tol, d0, epsabs=0, epsrel=1e-13, limit=200)[0]
    res = simulate_mergers([1.0, 1.0 + d0], beta, [0.0, 2 * exact], weights=[m1, m2], tol=tol,
                           model=model, rtol=1e-12, atol=1e-14)
    assert abs(res.t_merge[0] / exact - 1) < 1e-8, (res.t_merge, exact)
    assert res.count.tolist() == [2, 1] and res.masses[1].tolist() == [1.0]
    if model == "usa":
        assert circle_close(res.states[-1], 1.0 + m2 * d0, 1e-9)


def chapter_loop(theta, beta, t_eval, weights, tol, model, rtol, atol):
    """The loop the chapters wrote: one run per merger, stopped by an event, merge_coincident."""

    def meeting(t, th):
        return mt.closest_pair(th)[2] - tol

    meeting.terminal, meeting.direction = True, -1
    theta_c, w_c, owner, now, states, times = np.asarray(theta), np.asarray(weights), np.arange(len(theta)), t_eval[0], [], []
    while True:
        run = mt.simulate(theta_c, beta, t_eval[t_eval >= now] - now, model=model, method="dopri",
                          rtol=rtol, atol=atol, weights=w_c, events=meeting)
        states += [s[owner] for s in run.states]
        if run.status == 0:
            return np.array(states), times
        now += run.t_events[0][0]
        times.append(now)
        merged = mt.merge_coincident(run.states_events[0][0], w_c, tol=2 * tol)
        owner, theta_c, w_c = merged.labels[owner], merged.centres, merged.masses


def test_matches_the_chapter_loop_bit_for_bit():
    theta, w = np.array([0.0, 1.1, 2.35, 3.75, 5.05]), np.full(5, 0.2)
    t_eval = np.r_[8.0, np.geomspace(8.0, 1e4, 41)[1:]]
    res = simulate_mergers(theta, 8.0, t_eval, weights=w, tol=1e-7, model="sa", rtol=1e-9, atol=1e-12)
    states, times = chapter_loop(theta, 8.0, t_eval, w, 1e-7, "sa", 1e-9, 1e-12)
    assert np.array_equal(res.states, states) and np.array_equal(res.t_merge, times)
    assert [set(g) for g in res.groups] == [{0, 1}, {3, 4}, {0, 1, 2}]
    assert res.energy[0] == pytest.approx(mt.energy_circle(theta, 8.0, weights=w), rel=1e-14)


def test_rotation_and_relabelling():
    beta, t_out, opts = 2.5, np.linspace(0.0, 15.0, 16), {"tol": 1e-4, "rtol": 1e-12, "atol": 1e-14}
    res = simulate_mergers(THETA4, beta, t_out, weights=M4, **opts)
    rotated = simulate_mergers(THETA4 + 1.234, beta, t_out, weights=M4, **opts)
    assert np.allclose(rotated.t_merge, res.t_merge, rtol=1e-8)
    assert circle_close(rotated.states, res.states + 1.234, 1e-8)
    assert np.allclose(rotated.energy, res.energy, rtol=1e-12)
    perm = np.array([2, 0, 3, 1])
    relabelled = simulate_mergers(THETA4[perm], beta, t_out, weights=M4[perm], **opts)
    assert np.allclose(relabelled.t_merge, res.t_merge, rtol=1e-8)
    assert circle_close(relabelled.states, res.states[:, perm], 1e-8)
    assert [set(perm[list(g)]) for g in relabelled.groups] == [set(g) for g in res.groups]


def test_plateaus_energy_and_bookkeeping():
    beta = 3.0
    res = simulate_mergers(THETA4, beta, np.geomspace(1e-3, 1e4, 60), weights=M4, tol=1e-9)
    assert isinstance(res, MergerResult) and res.count[-1] == 1 and len(res.t_merge) == 3
    assert np.all(np.diff(res.energy) >= -1e-12 * res.energy[:-1])  # E_β never decreases
    assert np.isclose(res.energy[-1], np.exp(beta) / (2 * beta), rtol=1e-12)
    for m, (i, j) in enumerate(res.pairs):
        before, after = res.centres[m], res.centres[m + 1]
        assert (i, j) == mt.closest_pair(before)[:2] and after.size == before.size - 1
        assert np.isclose(res.masses[m + 1][-1], res.masses[m][i] + res.masses[m][j], rtol=0, atol=0)
        assert abs(res.masses[m + 1].sum() - 1) < 1e-15
    for s, lab in zip(res.states, res.labels):  # tokens with one label share one angle
        for c in np.unique(lab):
            assert np.ptp(s[lab == c]) == 0
    assert res.n_steps > 0 and res.nfev > res.n_steps and res.wall_time > 0 and "3 merger" in res.message
    with pytest.raises(Exception):
        res.t = None  # frozen


def test_clusters_within_tol_merge_at_the_start():
    res = simulate_mergers([1.0, 1.0 + 1e-10, 4.0], 1.0, [2.0, 3.0], tol=1e-9)
    assert res.t_merge[0] == 2.0 and res.groups[0] == (0, 1) and res.count[0] == 2
    one = simulate_mergers([0.5], 2.0, [0.0, 1.0, 5.0])
    assert np.all(one.states == 0.5) and one.t_merge.size == 0 and one.n_steps == 0
    assert np.allclose(one.energy, np.exp(2.0) / 4.0, rtol=1e-14)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(0.0, 6.28), min_size=2, max_size=5, unique=True),
       st.floats(0.5, 3.0), st.sampled_from(["usa", "sa"]))
def test_properties(angles, beta, model):
    theta = np.array(angles)
    if mt.closest_pair(theta)[2] < 1e-3:
        return
    w = np.arange(1.0, theta.size + 1) / np.sum(np.arange(1.0, theta.size + 1))
    res = simulate_mergers(theta, beta, np.linspace(0.0, 5.0, 6), weights=w, tol=1e-6, model=model)
    assert np.all(np.diff(res.count) <= 0) and res.count[0] == theta.size
    assert len(res.t_merge) == theta.size - res.count[-1] and np.all(np.diff(res.t_merge) >= 0)
    assert np.all(np.diff(res.energy) >= -1e-10 * res.energy[:-1])
    sizes = [len(g) for g in res.groups]
    assert all(s >= 2 for s in sizes) and (not sizes or max(sizes) <= theta.size)


def test_closest_pair_event():
    g = closest_pair_event(0.1)
    assert g.terminal is True and g.direction == -1
    theta = np.array([0.0, 2.0, 6.2])
    assert g(0.0, theta) == pytest.approx(mt.closest_pair(theta)[2] - 0.1, abs=1e-15)
    run = mt.simulate([0.0, 2.0], 0.0, [10.0], weights=[0.5, 0.5], method="dopri", events=g)
    exact = np.log(np.tan(1.0) / np.tan(0.05))  # β = 0: dΔ/dt = -sin Δ
    assert run.status == 1 and abs(run.t_events[0][0] / exact - 1) < 1e-6
    for bad in (0.0, -1.0, np.pi):
        with pytest.raises(ValueError, match="tol"):
            closest_pair_event(bad)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"theta": np.zeros((3, 2))}, ValueError, "theta"),
        ({"theta": [0.0, np.nan]}, ValueError, "theta"),
        ({"weights": [0.5, 0.6]}, ValueError, "sum to 1"),
        ({"weights": [1.0, 0.0]}, ValueError, "positive"),
        ({"weights": [0.5, 0.25, 0.25]}, ValueError, "weights"),
        ({"tol": 0.0}, ValueError, "tol"),
        ({"tol": 2.0}, ValueError, "tol"),
        ({"t_eval": [1.0, 0.5]}, ValueError, "t_eval"),
        ({"t_eval": [-1.0, 0.5]}, ValueError, "t_eval"),
        ({"model": "xa"}, ValueError, "model"),
        ({"beta": 800.0}, ValueError, "beta"),
        ({"beta": "5"}, TypeError, "beta"),
        ({"rtol": 0.0}, ValueError, "rtol"),
    ],
)
def test_bad_input(kwargs, error, match):
    args = {"theta": [0.0, 2.0], "beta": 1.0, "t_eval": [0.0, 1.0], **kwargs}
    with pytest.raises(error, match=match):
        simulate_mergers(**args)


def test_exported():
    assert mt.simulate_mergers is simulate_mergers and mt.MergerResult is MergerResult
    assert mt.closest_pair_event is closest_pair_event and mt.merging.simulate_mergers is simulate_mergers
