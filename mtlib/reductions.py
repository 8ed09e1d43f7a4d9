"""mtlib.reductions (being written)."""

__all__ = []
