"""Moved to :mod:`mtlib.measures`. A shim while ``mtlib/__init__.py`` still imports it: delete it then."""

from .measures import Clusters, find_clusters  # noqa: F401
