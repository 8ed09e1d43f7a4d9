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
