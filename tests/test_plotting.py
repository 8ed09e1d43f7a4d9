"""Figure helpers: they draw what they are given, wrapped and subsampled as documented."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mtlib as mt  # noqa: E402


def test_trajectories_are_wrapped_without_jumps_and_subsampled():
    t = np.linspace(0.0, 1.0, 50)
    theta = np.stack([np.linspace(0.0, 4 * np.pi, 50) + s for s in np.linspace(0, 1, 1000)], axis=1)
    fig, ax = plt.subplots()
    mt.plot_circle_trajectories(t, theta, ax=ax, max_tokens=100, marks=[np.pi / 2])
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == t.size]
    assert len(lines) == 100
    for line in lines:
        y = np.asarray(line.get_ydata(), dtype=float)
        finite = np.isfinite(y)
        assert np.all((y[finite] >= 0) & (y[finite] < 2 * np.pi))
        steps = np.abs(np.diff(y))
        assert np.all(steps[np.isfinite(steps)] < np.pi), "a wrap through 0 was drawn as a jump"
    plt.close(fig)


def test_trajectories_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="theta must have shape"):
        mt.plot_circle_trajectories(np.linspace(0, 1, 5), np.zeros((4, 3)))


def test_tokens_on_circle_places_points_on_the_unit_circle():
    theta = np.linspace(0, 2 * np.pi, 7, endpoint=False)
    fig, ax = plt.subplots()
    mt.plot_tokens_on_circle(theta, ax=ax)
    xy = ax.collections[0].get_offsets()
    assert np.allclose(np.hypot(xy[:, 0], xy[:, 1]), 1.0)
    assert np.allclose(np.arctan2(xy[:, 1], xy[:, 0]) % (2 * np.pi), theta)
    plt.close(fig)


def test_circle_histogram_heights_and_limits():
    theta = np.concatenate([np.full(300, 1.0), np.linspace(0, 2 * np.pi, 300, endpoint=False)])
    fig, ax = plt.subplots()
    mt.plot_circle_histogram(theta, ax=ax, radius=1.2, height=0.3, bins=60)
    xy = ax.patches[0].get_xy()
    r = np.hypot(xy[:, 0], xy[:, 1])
    assert r.max() == pytest.approx(1.5) and r.min() == pytest.approx(1.2, abs=1e-9)
    peak = xy[np.argmax(r)]
    assert abs(np.arctan2(peak[1], peak[0]) - 1.0) < 2 * np.pi / 60  # the spike sits at the cluster
    mt.plot_circle_histogram(theta, ax=ax, radius=0.3, height=0.3)
    assert ax.get_xlim()[1] >= 1.5, "a later, smaller ring must not clip an earlier one"
    plt.close(fig)


# ----------------------------------------------------------------------------------------
# Helpers for the figures the chapters repeat
# ----------------------------------------------------------------------------------------


def pixels(draw, figsize=(5, 3), **subplot_kw):
    """The RGBA pixels of a figure drawn by ``draw(ax)`` on one axes (Agg)."""
    fig = plt.figure(figsize=figsize, dpi=60)
    draw(fig.add_subplot(1, 1, 1, **subplot_kw))
    fig.canvas.draw()
    out = np.asarray(fig.canvas.buffer_rgba()).copy()
    plt.close(fig)
    return out


def test_house_style_sets_the_rc_parameters():
    with matplotlib.rc_context():
        mt.use_house_style()
        assert matplotlib.rcParams["figure.dpi"] == 110
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][3].lower() == "#cc79a7"
        assert matplotlib.rcParams["axes.spines.top"] is False


def test_angle_histogram_is_the_density_of_the_angles_mod_2pi():
    theta = np.random.default_rng(1).vonmises(1.0, 2.0, 5000)  # in (-π, π]: half must wrap
    fig, ax = plt.subplots()
    mt.plot_angle_histogram(theta, ax=ax, bins=60)
    heights = np.array([p.get_height() for p in ax.patches])
    lefts = np.array([p.get_x() for p in ax.patches])
    expected, edges = np.histogram(np.mod(theta, 2 * np.pi), bins=60, range=(0, 2 * np.pi), density=True)
    np.testing.assert_allclose(heights, expected, rtol=1e-12)
    np.testing.assert_allclose(lefts, edges[:-1], rtol=1e-12, atol=1e-15)
    assert np.sum(heights) * (2 * np.pi / 60) == pytest.approx(1.0)
    plt.close(fig)


def test_angle_histogram_draws_what_the_chapters_wrote_by_hand():
    theta = np.random.default_rng(2).uniform(0, 2 * np.pi, 3000)
    by_hand = pixels(lambda ax: ax.hist(theta, bins=120, range=(0, 2 * np.pi), density=True, color="C0", alpha=0.45))
    helper = pixels(lambda ax: mt.plot_angle_histogram(theta, ax=ax, alpha=0.45))
    np.testing.assert_array_equal(helper, by_hand)
    edges = np.linspace(0.0, 2 * np.pi, 91)  # ch. 1 gives the edges; the same bins, the same picture
    by_hand = pixels(lambda ax: ax.hist(theta, bins=edges, density=True, histtype="step", color="C1"))
    helper = pixels(lambda ax: mt.plot_angle_histogram(theta, ax=ax, bins=90, histtype="step", color="C1"))
    np.testing.assert_array_equal(helper, by_hand)


def test_mode_bars_heights_and_highlight():
    k = np.arange(1, 11)
    values = 1.0 / k
    fig, ax = plt.subplots()
    mt.plot_mode_bars(k, values, highlight=4, ax=ax, log=True)
    bars = ax.patches
    assert [b.get_x() + b.get_width() / 2 for b in bars] == pytest.approx(k)
    assert [b.get_height() for b in bars] == pytest.approx(values)
    red, grey = matplotlib.colors.to_rgba("C3"), matplotlib.colors.to_rgba("0.6")
    assert [b.get_facecolor() == red for b in bars] == [kk == 4 for kk in k]
    assert all(b.get_facecolor() == grey for b in bars if b is not bars[3])
    assert ax.get_yscale() == "log"
    plt.close(fig)
    by_hand = pixels(lambda ax: ax.bar(k, values, color=["C3" if kk == 3 else "0.6" for kk in k]))
    np.testing.assert_array_equal(pixels(lambda ax: mt.plot_mode_bars(k, values, highlight=3, ax=ax)), by_hand)


def test_mode_amplitudes_lines_colours_and_linear_growth():
    t = np.linspace(0.0, 0.4, 41)
    k = np.arange(1, 5)
    rates = np.array([0.5, 2.0, 3.0, 1.0])
    rng = np.random.default_rng(3)
    a = (rng.normal(size=4) + 1j * rng.normal(size=4)) * 1e-2 * np.exp(np.outer(t, rates) + 0.1 * rng.normal(size=(41, 4)))
    fig, ax = plt.subplots()
    mt.plot_mode_amplitudes(t, a, k, ax=ax, rates=rates, highlight=3, linewidth=1.0)
    lines = ax.get_lines()
    assert len(lines) == 8 and ax.get_yscale() == "log"
    for j, kk in enumerate(k):
        mode, linear = lines[2 * j], lines[2 * j + 1]
        np.testing.assert_allclose(mode.get_ydata(), np.abs(a[:, j]), rtol=1e-15)
        np.testing.assert_allclose(linear.get_ydata(), np.abs(a[0, j]) * np.exp(rates[j] * t), rtol=1e-15)
        assert mode.get_color() == linear.get_color() == f"C{kk - 1}"
        assert mode.get_label() == f"k = {kk}" and linear.get_linestyle() == "--"
        assert mode.get_linewidth() == (2.6 if kk == 3 else 1.0)
    plt.close(fig)


def test_mode_amplitudes_draw_what_the_chapters_wrote_by_hand():
    t = np.linspace(0.0, 1.0, 25)
    powers = np.exp(np.outer(t, [1.0, 3.0, 2.0])) * 1e-3
    degrees = np.arange(1, 4)

    def by_hand(ax):  # chapter 6's loop
        for k in degrees:
            ax.semilogy(t, powers[:, k - 1], color=f"C{k - 1}", lw=2.6 if k == 2 else 1.0, label=f"k = {k}")
        ax.legend()

    def helper(ax):
        mt.plot_mode_amplitudes(t, powers, degrees, ax=ax, highlight=2, linewidth=1.0)
        ax.legend()

    np.testing.assert_array_equal(pixels(helper), pixels(by_hand))


def test_sphere_grid_points_sit_at_their_longitude_and_latitude():
    lon, lat, points = mt.sphere_grid(13, 7)
    assert lon.shape == lat.shape == (7, 13) and points.shape == (91, 3)
    np.testing.assert_allclose(np.linalg.norm(points, axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(points[:, 2], np.sin(lat).ravel(), atol=1e-15)
    inner = np.abs(lat.ravel()) < np.pi / 2 - 1e-9  # the poles have no longitude
    np.testing.assert_allclose(np.arctan2(points[inner, 1], points[inner, 0]), lon.ravel()[inner], atol=1e-12)
    assert lon[0, 0] == -np.pi and lon[0, -1] == np.pi and lat[0, 0] == -np.pi / 2 and lat[-1, 0] == np.pi / 2


def test_tokens_on_sphere_positions_and_rotation():
    X = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [-1.0, 1e-17, 0], [0, -np.sqrt(0.5), -np.sqrt(0.5)]])
    fig = plt.figure()
    ax = mt.plot_tokens_on_sphere(X, ax=fig.add_subplot(projection="mollweide"))
    lon_lat = ax.collections[0].get_offsets()
    np.testing.assert_allclose(lon_lat, [[0, 0], [np.pi / 2, 0], [0, np.pi / 2], [np.pi, 0], [-np.pi / 2, -np.pi / 4]], atol=1e-15)
    # A rotation about the z axis by φ shifts every longitude by φ and keeps latitudes.
    rng = np.random.default_rng(4)
    Y = rng.normal(size=(200, 3))
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    phi = 0.7
    R = np.array([[np.cos(phi), -np.sin(phi), 0], [np.sin(phi), np.cos(phi), 0], [0, 0, 1]])
    before = mt.plot_tokens_on_sphere(Y, ax=fig.add_subplot(2, 1, 1, projection="mollweide")).collections[0].get_offsets()
    after = mt.plot_tokens_on_sphere(Y @ R.T, ax=fig.add_subplot(2, 1, 2, projection="mollweide")).collections[0].get_offsets()
    shift = np.angle(np.exp(1j * (after[:, 0] - before[:, 0] - phi)))
    np.testing.assert_allclose(shift, 0.0, atol=1e-12)
    np.testing.assert_allclose(after[:, 1], before[:, 1], atol=1e-12)
    plt.close(fig)


def test_tokens_on_sphere_shades_where_the_function_is_positive():
    lon, lat, points = mt.sphere_grid()
    shade = points[:, 2].reshape(lon.shape)  # z > 0: the northern hemisphere
    fig = plt.figure()
    ax = mt.plot_tokens_on_sphere(np.array([[0.0, 0.0, 1.0]]), ax=fig.add_subplot(projection="mollweide"), shade=shade)
    contours = [c for c in ax.collections if isinstance(c, matplotlib.contour.ContourSet)]
    assert len(contours) == 1 and list(contours[0].levels) == [0.0, np.inf]
    vertices = np.concatenate([p.vertices for p in contours[0].get_paths()])
    assert vertices[:, 1].min() >= -1e-12, "only the northern hemisphere is shaded"
    assert ax.get_xticklabels()[0].get_text() == "" and ax.name == "mollweide"
    plt.close(fig)


def test_tokens_on_sphere_draw_what_chapter_6_wrote_by_hand():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    LON, LAT, grid = mt.sphere_grid()
    shade = (grid @ [0.3, -0.2, 0.9] - 0.1).reshape(LON.shape)

    def by_hand(ax):
        ax.contourf(LON, LAT, shade, levels=[0.0, np.inf], colors=["0.86"])
        ax.scatter(np.arctan2(X[:, 1], X[:, 0]), np.arcsin(np.clip(X[:, 2], -1.0, 1.0)), s=2, alpha=0.35, linewidths=0)
        ax.set_xticklabels([])
        ax.set_yticklabels([])

    helper = pixels(lambda ax: mt.plot_tokens_on_sphere(X, ax=ax, shade=shade), projection="mollweide")
    np.testing.assert_array_equal(helper, pixels(by_hand, projection="mollweide"))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: mt.plot_angle_histogram(np.zeros((2, 2))), "theta must be a non-empty 1-D array"),
        (lambda: mt.plot_angle_histogram(np.zeros(3), bins=0), "bins must be an integer >= 1"),
        (lambda: mt.plot_mode_bars([1.5, 2.5], [1, 2]), "k must be a non-empty 1-D array of integer"),
        (lambda: mt.plot_mode_bars([1, 2], [1, 2, 3]), "values must have 2 entries"),
        (lambda: mt.plot_mode_bars([1, 2], [[1, 2]]), "values must be 1-D"),
        (lambda: mt.plot_mode_amplitudes([0, 1], np.ones((3, 2)), [1, 2]), r"amplitudes must have shape \(len\(t\), len\(k\)\)"),
        (lambda: mt.plot_mode_amplitudes([0, 1], np.ones((2, 2)), [1, 2], rates=[1.0]), "rates must have shape"),
        (lambda: mt.sphere_grid(1, 5), "n_lon must be an integer >= 2"),
        (lambda: mt.plot_tokens_on_sphere(np.ones((4, 2))), r"X must have shape \(n, 3\)"),
        (lambda: mt.plot_tokens_on_sphere(np.ones((4, 3)), shade=np.ones(5)), r"shade must have shape \(n_lat, n_lon\)"),
        (lambda: mt.plot_tokens_on_sphere(np.ones((4, 3)), ax=plt.figure().add_subplot()), "ax must be a Mollweide axes"),
    ],
)
def test_helpers_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
    plt.close("all")
