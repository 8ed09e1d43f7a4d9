"""find_clusters: exact single linkage on the circle, leader clustering on the sphere."""

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

import mtlib as mt


def same_partition(a, b):
    """True when two label arrays define the same partition of the tokens."""
    pairs = {(x, y) for x, y in zip(a, b)}
    return len(pairs) == len(set(a)) == len(set(b))


def single_linkage_circle(theta, radius):
    d = np.abs(np.angle(np.exp(1j * (theta[:, None] - theta[None, :]))))
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


def test_bad_input():
    with pytest.raises(ValueError, match="radius"):
        mt.find_clusters([0.0, 1.0], radius=0.0)
    with pytest.raises(ValueError, match="min_mass"):
        mt.find_clusters([0.0, 1.0], min_mass=1.0)
    with pytest.raises(ValueError, match="finite"):
        mt.find_clusters([0.0, np.nan])
    with pytest.raises(ValueError, match="unit norm"):
        mt.find_clusters(2 * np.eye(3))
