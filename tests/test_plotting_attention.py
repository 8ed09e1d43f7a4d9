"""Figure helpers of chapter 08: the k_max(β, φ) map and the parking-gap histograms."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mtlib as mt  # noqa: E402


def test_kmax_map_draws_the_given_values_one_colour_each():
    beta, phi = np.linspace(1.0, 10.0, 7), np.linspace(0.0, np.pi, 9)
    k = mt.kmax_rotated(beta[:, None], phi[None, :])
    fig, ax = plt.subplots()
    mt.plotting.plot_kmax_map(beta, phi, k, ax=ax)
    (mesh,) = ax.collections
    assert np.array_equal(np.asarray(mesh.get_array()).reshape(k.shape), k)
    colours = mesh.cmap(mesh.norm(k))
    for value in np.unique(k):   # one colour per k, different k different colours
        same = colours[k == value]
        assert np.all(same == same[0])
    assert len({tuple(c) for c in mesh.cmap(mesh.norm(np.unique(k)))}) == np.unique(k).size
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "π/4", "π/2", "3π/4", "π"]
    assert len(fig.axes) == 2   # the colour bar
    plt.close(fig)


def test_kmax_map_rejects_bad_input():
    beta, phi = np.linspace(1.0, 10.0, 3), np.linspace(0.0, 1.0, 4)
    with pytest.raises(ValueError, match="kmax must be an integer array"):
        mt.plotting.plot_kmax_map(beta, phi, np.ones((4, 3), dtype=int))
    with pytest.raises(ValueError, match="kmax must be an integer array"):
        mt.plotting.plot_kmax_map(beta, phi, np.ones((3, 4)))
    with pytest.raises(ValueError, match="kmax must be an integer array"):
        mt.plotting.plot_kmax_map(beta, phi, -np.ones((3, 4), dtype=int))
    with pytest.raises(ValueError, match="phi must be strictly increasing"):
        mt.plotting.plot_kmax_map(beta, phi[::-1], np.ones((3, 4), dtype=int))
    plt.close("all")


def test_gap_histograms_normalise_by_the_unit_and_mark_the_parking_window():
    rng = np.random.default_rng(0)
    gaps = {"a": rng.uniform(0.5, 1.0, 200), "b": rng.uniform(0.5, 1.5, 100)}
    fig, ax = plt.subplots()
    mt.plotting.plot_gap_histograms(gaps, unit=0.5, ax=ax)
    patches = ax.patches
    assert len(patches) == 2
    for patch, g, (lo, hi) in zip(patches, gaps.values(), [(1.0, 2.0), (1.0, 3.0)]):
        xy = patch.get_xy()
        filled = xy[xy[:, 1] > 0, 0]                      # the bins drawn above zero
        assert filled.min() >= lo - 1e-12 and filled.max() <= hi + 1e-12
        expected = np.histogram(g / 0.5, bins=np.linspace(0.0, 3.0, 25), density=True)[0]
        assert np.allclose(np.unique(xy[xy[:, 1] > 0, 1]), np.unique(expected[expected > 0]))
    marks = sorted(line.get_xdata()[0] for line in ax.get_lines())
    assert marks == [1.0, 2.0]
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["a (200 gaps)", "b (100 gaps)"]
    plt.close(fig)


def test_gap_histograms_reject_bad_input():
    with pytest.raises(TypeError, match="gaps must be a non-empty dict"):
        mt.plotting.plot_gap_histograms([1.0, 2.0], unit=1.0)
    with pytest.raises(ValueError, match="unit must be"):
        mt.plotting.plot_gap_histograms({"a": [1.0]}, unit=0.0)
    with pytest.raises(ValueError, match="must be positive"):
        mt.plotting.plot_gap_histograms({"a": [1.0, -1.0]}, unit=1.0)
    with pytest.raises(ValueError, match="one entry per gap set"):
        mt.plotting.plot_gap_histograms({"a": [1.0]}, unit=1.0, colors=["C0", "C1"])
    plt.close("all")
