"""Figure helpers: they draw what they are given, wrapped and subsampled as documented."""

import math
import types

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


def test_mode_amplitudes_line_styles_draw_chapter_4s_periodic_manifold_figure():
    t = np.linspace(0.0, 0.5, 21)
    m = np.arange(1, 7)
    c = np.exp(np.outer(t, m)) * 10.0 ** -np.where(m % 3 == 0, 3.0, 15.0)

    def by_hand(ax):  # chapter 4's loop: default colour cycle, multiples of 3 solid
        for j, mm in enumerate(m):
            ax.semilogy(t, c[:, j], label=f"m = {mm}", ls="-" if mm % 3 == 0 else "--")
        ax.legend(ncol=3)

    def helper(ax):
        styles = np.where(m % 3 == 0, "-", "--")
        mt.plot_mode_amplitudes(t, c, m, ax=ax, symbol="m", linestyles=styles)
        ax.legend(ncol=3)

    np.testing.assert_array_equal(pixels(helper), pixels(by_hand))
    fig, ax = plt.subplots()
    mt.plot_mode_amplitudes(t, c, m, ax=ax, linestyles=np.where(m % 3 == 0, "-", ":"))
    assert [line.get_linestyle() for line in ax.get_lines()] == [":", ":", "-", ":", ":", "-"]
    plt.close(fig)


def _fake_pde_solution(t, handover):
    theta = np.linspace(0.0, 2 * np.pi, 64, endpoint=False)
    t = np.asarray(t, dtype=float)
    density = (1 + 0.5 * np.outer(t, np.cos(3 * theta))) / (2 * np.pi)
    method = np.where(t < handover, "spectral", "lagrangian")
    return types.SimpleNamespace(t=t, theta=theta, density=density, method=method)


def test_density_snapshots_draw_what_chapter_4_wrote_by_hand():
    run5 = _fake_pde_solution(np.arange(51) / 100, 0.44)
    run7 = _fake_pde_solution(np.arange(81) / 1000, 0.065)
    snap5, snap7 = [0.0, 0.2, 0.44, 0.5], [0.0, 0.03, 0.07, 0.08]

    def by_hand():  # chapter 4's grid of density snapshots
        fig, axes = plt.subplots(2, 4, figsize=(8, 4), sharex=True)
        for row, (run, snaps, b) in enumerate(((run5, snap5, 5.0), (run7, snap7, 7.0))):
            for ax, ts in zip(axes[row], snaps):
                i = int(np.argmin(np.abs(run.t - ts)))
                colour = "C0" if run.method[i] == "spectral" else "C1"
                ax.plot(run.theta, 2 * np.pi * run.density[i], color=colour, lw=1)
                ax.text(0.5, 1.02, f"β = {b:g}, t = {run.t[i]:.2f}", transform=ax.transAxes,
                        fontsize=8.5, ha="center", va="bottom")
                ax.set_xticks([0, np.pi, 2 * np.pi], ["0", "π", "2π"])
            axes[row, 0].set_ylabel("2πρ")
        plt.setp(axes[1], xlabel="θ")
        fig.tight_layout()
        return fig

    def helper():
        axes = mt.plot_density_snapshots([run5, run7], [snap5, snap7], labels=["β = 5", "β = 7"],
                                         figsize=(8, 4))
        return axes[0, 0].figure

    def rgba(fig):
        fig.set_dpi(60)
        fig.canvas.draw()
        out = np.asarray(fig.canvas.buffer_rgba()).copy()
        plt.close(fig)
        return out

    np.testing.assert_array_equal(rgba(helper()), rgba(by_hand()))


def test_density_snapshots_artists_pick_the_nearest_snapshot_and_colour_by_solver():
    run = _fake_pde_solution(np.linspace(0.0, 1.0, 11), 0.55)
    fig, ax = plt.subplots()
    axes = mt.plot_density_snapshots([run], [0.52], axes=ax)
    assert axes.shape == (1, 1) and axes[0, 0] is ax and not ax.texts
    line, = ax.get_lines()
    np.testing.assert_array_equal(line.get_ydata(), 2 * np.pi * run.density[5])
    assert line.get_color() == "C0" and ax.get_xlabel() == "θ" and ax.get_ylabel() == "2πρ"
    mt.plot_density_snapshots([run], [[0.58]], labels=["x"], axes=[[ax]])
    assert ax.get_lines()[1].get_color() == "C1" and ax.texts[0].get_text() == "x, t = 0.60"
    plt.close(fig)


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
        (lambda: mt.plot_angle_histogram(np.zeros((2, 2))), r"theta must have 1 dimension"),
        (lambda: mt.plot_angle_histogram(np.zeros(3), bins=0), "bins must be an integer >= 1"),
        (lambda: mt.plot_mode_bars([1.5, 2.5], [1, 2]), "k must be a non-empty 1-D array of integer"),
        (lambda: mt.plot_mode_bars([1, 2], [1, 2, 3]), "values must have 2 entries"),
        (lambda: mt.plot_mode_bars([1, 2], [[1, 2]]), "values must be 1-D"),
        (lambda: mt.plot_mode_amplitudes([0, 1], np.ones((3, 2)), [1, 2]), r"amplitudes must have shape \(len\(t\), len\(k\)\)"),
        (lambda: mt.plot_mode_amplitudes([0, 1], np.ones((2, 2)), [1, 2], rates=[1.0]), "rates must have shape"),
        (lambda: mt.plot_mode_amplitudes([0, 1], np.ones((2, 2)), [1, 2], linestyles=["-"]),
         "linestyles must give one style per mode"),
        (lambda: mt.plot_density_snapshots([None, None], [[0.0]]), "times must give the same number"),
        (lambda: mt.plot_density_snapshots([None], [[0.0]], labels=["a", "b"]), "labels must give one label"),
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


# ----------------------------------------------------------------------------------------
# Trajectories + distribution panel, growth-rate curve, k_max steps (chapters 0, 2, 3)
# ----------------------------------------------------------------------------------------


def drifting_tokens(n_times=31, n=500, seed=6):
    """Angles that drift apart at random speeds and wrap through 2π: shape (n_times, n)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 0.6, n_times)
    theta = rng.uniform(0, 2 * np.pi, n) + np.outer(t, rng.normal(0.0, 4.0, n))
    return t, theta


def panel_pixels(draw, figsize=(9, 3.4)):
    """The RGBA pixels of a figure drawn by ``draw(fig)`` (Agg)."""
    fig = plt.figure(figsize=figsize, dpi=60)
    draw(fig)
    fig.canvas.draw()
    out = np.asarray(fig.canvas.buffer_rgba()).copy()
    plt.close(fig)
    return out


def test_trajectory_panel_rings_draw_what_chapter_0_wrote_by_hand():
    t, theta = drifting_tokens()

    def by_hand(fig):  # chapter 0's figure: rings at t = 0, 0.25, 0.6
        ax_t, ax_c = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
        mt.plot_circle_trajectories(t, theta, ax=ax_t)
        for time, radius, colour in [(0.0, 1.2, "0.6"), (0.25, 0.75, "C0"), (0.6, 0.3, "C1")]:
            mt.plot_circle_histogram(theta[np.searchsorted(t, time)], ax=ax_c, radius=radius, height=0.3, color=colour)

    def helper(fig):
        mt.plot_trajectories_and_histogram(t, theta, fig=fig, at=np.searchsorted(t, [0.0, 0.25, 0.6]), rings=True)

    np.testing.assert_array_equal(panel_pixels(helper), panel_pixels(by_hand))

    def by_hand_widget(fig):  # chapter 0's widget: rings at the first and last time
        ax_t, ax_c = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
        mt.plot_circle_trajectories(t, theta, ax=ax_t, max_tokens=400)
        mt.plot_circle_histogram(theta[0], ax=ax_c, radius=1.1, color="0.6")
        mt.plot_circle_histogram(theta[-1], ax=ax_c, radius=0.5, color="C1")

    def helper_widget(fig):
        mt.plot_trajectories_and_histogram(t, theta, fig=fig, at=(0, -1), rings=True, radii=(1.1, 0.5), max_tokens=400)

    np.testing.assert_array_equal(panel_pixels(helper_widget), panel_pixels(by_hand_widget))


def test_trajectory_panel_histogram_draws_chapter_3_figure_2_row():
    t, theta = drifting_tokens()
    marks, t_mark = np.array([0.4, 2.5, 4.6]), 0.27

    def by_hand(fig):  # one row of chapter 3's Figure 2, before the helper
        ax_t, ax_h = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
        mt.plot_circle_trajectories(t, theta, ax=ax_t, marks=marks)
        ax_t.axvline(t_mark, color="0.3", linestyle=":")
        mt.plot_angle_histogram(theta[13], ax=ax_h, bins=180, histtype="step", label=r"$t = T_N$")
        for p in marks:
            ax_h.axvline(p, color="C1", linestyle="--", linewidth=1)
        ax_h.set(xlim=(0, 2 * np.pi), xlabel="angle θ", ylabel="density")
        ax_h.set_xticks(np.pi * np.arange(5) / 2, ["0", "π/2", "π", "3π/2", "2π"])

    def helper(fig):
        axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
        mt.plot_trajectories_and_histogram(t, theta, axes=axes, at=13, marks=marks, t_mark=t_mark, bins=180,
                                           histtype="step", label=r"$t = T_N$")

    np.testing.assert_array_equal(panel_pixels(helper), panel_pixels(by_hand))


def test_trajectory_panel_artists():
    t, theta = drifting_tokens()
    fig = plt.figure()
    ax_t, ax_h = mt.plot_trajectories_and_histogram(t, theta, fig=fig, at=(0, -1), marks=[7.0], t_mark=0.3,
                                                    max_tokens=50, bins=30, label="start")
    assert len(fig.axes) == 2 and ax_t.get_position().width > 2 * ax_h.get_position().width
    token_lines = [line for line in ax_t.get_lines() if len(line.get_xdata()) == t.size]
    assert len(token_lines) == 50
    horizontal = [line for line in ax_t.get_lines() if line.get_linestyle() == "--"]
    assert len(horizontal) == 1 and horizontal[0].get_ydata()[0] == pytest.approx(7.0 - 2 * np.pi)
    vertical = [line for line in ax_t.get_lines() if line.get_linestyle() == ":"]
    assert len(vertical) == 1 and vertical[0].get_xdata()[0] == 0.3
    # two histograms of 30 bars, each the density of the angles mod 2π at its time
    heights = np.array([p.get_height() for p in ax_h.patches]).reshape(2, 30)
    for row, i in zip(heights, (0, -1)):
        expected, _ = np.histogram(np.mod(theta[i], 2 * np.pi), bins=30, range=(0, 2 * np.pi), density=True)
        np.testing.assert_allclose(row, expected, rtol=1e-12)
    assert ax_h.patches[0].get_facecolor() == matplotlib.colors.to_rgba("C0")
    assert ax_h.patches[30].get_facecolor() == matplotlib.colors.to_rgba("C1")
    assert ax_h.get_legend_handles_labels()[1] == ["start"]
    mark_lines = [line for line in ax_h.get_lines() if line.get_linestyle() == "--"]
    assert len(mark_lines) == 1 and mark_lines[0].get_xdata()[0] == pytest.approx(7.0 - 2 * np.pi)
    assert ax_h.get_xlim() == (0.0, 2 * np.pi)
    plt.close(fig)
    # a marked time outside the run is not drawn; rings: one filled ring per snapshot
    fig = plt.figure()
    ax_t, ax_c = mt.plot_trajectories_and_histogram(t, theta, fig=fig, at=(0, 10, -1), t_mark=5.0, rings=True)
    assert not [line for line in ax_t.get_lines() if line.get_linestyle() == ":"]
    assert len(ax_c.patches) == 3
    outer = [np.hypot(*p.get_xy().T).min() for p in ax_c.patches]
    np.testing.assert_allclose(outer, [1.2, 0.75, 0.3], atol=1e-9)
    colours = [p.get_facecolor()[:3] for p in ax_c.patches]
    assert colours == [matplotlib.colors.to_rgb(c) for c in ("0.6", "C0", "C1")]
    plt.close(fig)


def test_growth_rates_draw_what_chapter_2_wrote_by_hand():
    beta = 5.0

    def by_hand(ax):
        kappa = np.linspace(0, 9, 401)
        rates, km = mt.growth_rate(np.arange(0, 10), beta), mt.kmax(beta)
        ax.plot(kappa, mt.growth_rate_continuous(kappa, beta), color="0.6", lw=1.2, label="closed form, real k")
        ax.plot(np.arange(0, 10), rates, "o", color="C0", label=r"$\gamma_k$")
        ax.plot(km, rates[km], "o", ms=11, mfc="none", mec="C3", mew=1.8, label=rf"$k_{{\max}}$ = {km}")
        ax.set(xlabel="k", ylabel=r"$\gamma_k$")
        ax.legend(fontsize=8, loc="upper right")

    def helper(ax):
        mt.plot_growth_rates(beta, np.arange(0, 10), ax=ax)
        ax.legend(fontsize=8, loc="upper right")

    np.testing.assert_array_equal(pixels(helper), pixels(by_hand))


@pytest.mark.parametrize("beta, d, model", [(5.0, 2, "usa"), (7.0, 2, "sa"), (12.0, 3, "usa"), (30.0, 8, "sa")])
def test_growth_rates_points_lie_on_the_curve_and_kmax_is_circled(beta, d, model):
    k = np.arange(0, 13)
    fig, ax = plt.subplots()
    mt.plot_growth_rates(beta, k, ax=ax, d=d, model=model, normalize=True)
    curve, points, circle = ax.get_lines()
    kappa, values = curve.get_xdata(), curve.get_ydata()
    np.testing.assert_array_equal(kappa, np.linspace(0, 12, 401))
    # dots: γ_k / γ_max from the closed form in Bessel functions (scipy), and on the curve
    from scipy.special import iv

    nu = (d - 2) / 2
    usa = k * (k + d - 2) * math.gamma(d / 2) * 2**nu * beta ** (-1 - nu) * iv(k + nu, beta)
    np.testing.assert_allclose(points.get_ydata(), usa / usa.max(), rtol=1e-10)
    on_grid = np.isin(kappa, k)
    np.testing.assert_allclose(values[on_grid], points.get_ydata()[np.isin(k, kappa)], rtol=1e-12)
    assert values.max() >= 1.0 - 1e-12, "the curve's maximum κ* is at least the integer maximum"
    km = int(np.argmax(usa))
    assert circle.get_xdata()[0] == km == mt.kmax(beta, d) and circle.get_ydata()[0] == pytest.approx(1.0)
    assert circle.get_label() == rf"$k_{{\max}}$ = {km}" and ax.get_ylabel() == r"$\gamma_k / \gamma_{\max}$"
    plt.close(fig)


def test_kmax_steps_draw_what_chapter_2_wrote_by_hand():
    beta = np.linspace(0.5, 60.0, 300)
    dims, colors = (2, 3, 8, 16), ("C0", "C1", "C3", "C4")
    exact = {d: np.array([mt.kmax(b, d) for b in beta]) for d in dims}
    law = {d: np.sqrt(2 * beta + (d / 2 - 1) ** 2) - (d / 2 - 1) for d in dims}

    def by_hand(ax):
        for d, c in zip(dims, colors):
            ax.step(beta, exact[d], where="post", color=c, lw=1, label=f"d = {d}")
            ax.plot(beta, law[d], color=c, lw=1.5, ls="--")
        ax.set(xlabel="β", ylabel=r"$k_{\max}$")
        ax.yaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.legend(fontsize=8)

    def helper(ax):
        mt.plot_kmax_steps(beta, exact, ax=ax, colors=colors, linewidth=1, approximations=law)
        ax.legend(fontsize=8)

    np.testing.assert_array_equal(pixels(helper), pixels(by_hand))


def test_kmax_steps_artists():
    beta = np.linspace(0.5, 20.0, 200)
    kmax = {d: np.array([mt.kmax(b, d) for b in beta]) for d in (2, 4)}
    fig, ax = plt.subplots()
    mt.plot_kmax_steps(beta, kmax, ax=ax, approximations={4: np.sqrt(2 * beta + 1) - 1})
    lines = ax.get_lines()
    assert [line.get_label() for line in lines[:2]] == ["d = 2", "d = 4"] and len(lines) == 3
    assert lines[0].get_drawstyle() == "steps-post" and lines[2].get_linestyle() == "--"
    assert lines[0].get_color() == "C0"
    assert lines[1].get_color() == lines[2].get_color() == "C1"
    np.testing.assert_array_equal(lines[0].get_ydata(), kmax[2])
    # the steps are where k_max moves up: at the switch points, to the grid's resolution
    jumps = beta[1:][np.diff(kmax[2]) > 0]
    switch = mt.kmax_switch_points(2, jumps.size + 1)
    assert np.all((switch <= jumps) & (jumps - switch <= beta[1] - beta[0] + 1e-12))
    ticks = ax.yaxis.get_major_locator().tick_values(1, 6)
    np.testing.assert_array_equal(ticks, np.round(ticks))
    plt.close(fig)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: mt.plot_trajectories_and_histogram([0, 1], np.zeros((3, 4))), r"theta must have shape \(len\(t\), n\)"),
        (lambda: mt.plot_trajectories_and_histogram([0, 1], np.zeros((2, 4)), at=2), "at must be an index"),
        (lambda: mt.plot_trajectories_and_histogram([0, 1], np.zeros((2, 4)), at=[]), "at must be an index"),
        (lambda: mt.plot_trajectories_and_histogram([0, 1], np.zeros((2, 4)), at=0.5), "at must be an index"),
        (lambda: mt.plot_trajectories_and_histogram([0, 1], np.zeros((2, 4)), at=(0, 1), rings=True, radii=[1.0]),
         "radii must give one radius per snapshot"),
        (lambda: mt.plot_trajectories_and_histogram([0, 1], np.zeros((2, 4)), colors=["C0", "C1"]),
         "colors must give one colour per snapshot"),
        (lambda: mt.plot_growth_rates(5.0, [0.5, 1.5]), "k must be a non-empty 1-D array of integer degrees"),
        (lambda: mt.plot_growth_rates(5.0, [-1, 2]), "k must be a non-empty 1-D array of integer degrees"),
        (lambda: mt.plot_kmax_steps([1.0], {2: [1]}), "beta must be a 1-D array of at least two values"),
        (lambda: mt.plot_kmax_steps([1.0, 2.0], {2: [1, 1, 2]}), r"counts\[2\] must have the shape"),
        (lambda: mt.plot_kmax_steps([1.0, 2.0], {2: [1, 1]}, approximations={2: [1.0]}),
         r"approximations\[2\] must have the shape"),
        (lambda: mt.plot_kmax_steps([1.0, 2.0], {2: [1, 1]}, colors=["C0", "C1"]), "colors must give one colour per d"),
    ],
)
def test_new_helpers_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
    plt.close("all")


def test_kmax_steps_needs_a_dict():
    with pytest.raises(TypeError, match="counts must be a non-empty dict"):
        mt.plot_kmax_steps([1.0, 2.0], [[1, 1]])


@pytest.mark.parametrize("call, match", [
    (lambda: mt.plot_circle_trajectories([0.0, 1.0], [[0.0, np.nan], [0.1, 0.2]]), "theta"),
    (lambda: mt.plot_circle_trajectories([0.0, np.inf], [[0.0], [0.1]]), "t"),
    (lambda: mt.plot_tokens_on_circle([]), "theta"),
    (lambda: mt.plot_circle_histogram([0.0, np.nan]), "theta"),
    (lambda: mt.plot_angle_histogram([np.inf]), "theta"),
    (lambda: mt.plot_trajectories_and_histogram([0.0], [[np.nan, 1.0]]), "theta"),
    (lambda: mt.plot_mode_amplitudes([0.0, 1.0], [[1.0], [-0.5]], [1]), "amplitudes"),
    (lambda: mt.plot_mode_amplitudes([0.0, 1.0], [[1.0], [np.nan]], [1]), "amplitudes"),
    (lambda: mt.plot_mode_bars([1, 2], [0.5, np.nan]), "values"),
    (lambda: mt.plot_tokens_on_sphere(np.full((2, 3), np.nan)), "X"),
])
def test_plot_helpers_refuse_nan_empty_and_negative_input(call, match):
    """NaN, empty or negative data raise a ValueError naming the argument (not a blank plot)."""
    import matplotlib.pyplot as plt

    with pytest.raises(ValueError, match=match):
        call()
    plt.close("all")
