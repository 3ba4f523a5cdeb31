"""A glacier's fronts as a time series: the GeoPackage, terminus positions and screening."""
