"""Calving-front time series of Greenland's outlet glaciers from multi-sensor satellite imagery.

The package holds the science of the workflow, one concept per module:

- ``grid``        the glacier's pixel grid (EPSG:3413)
- ``config``      glacier/sensor configuration checks
- ``sensors``     per-sensor pixel encodings and scaling to one band
- ``scenes``      the scene record and the per-sensor manifest
- ``sources``     archives that list and fetch scenes (synthetic, local, stac, asf)
- ``preprocess``  nodata mask and histogram treatments
- ``inference``   ONNX Runtime tiled inference
- ``vectorize``   front probability -> calving-front LineString
- ``timeseries``  merging fronts into the GeoPackage time series
- ``metrics``     distances between fronts (CaFFe-style mean distance error)
- ``evaluate``    evaluate-fronts / evaluate-images
- ``models``      PyTorch networks (training only)
- ``training``    datasets, augmentation, training loop, ONNX export (training only)
- ``raster_io``   GeoTIFF reading/writing at the edges, atomically
"""

__version__ = "0.1.0"
