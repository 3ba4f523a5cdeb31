"""Preprocessing: one band per scene, its nodata mask and the histogram treatment."""
