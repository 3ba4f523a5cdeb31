"""Fixtures of the dataset tests."""

from straight_series import series_gpkg  # noqa: F401
