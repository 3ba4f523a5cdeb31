"""Calving-front time series of Greenland's outlet glaciers from multi-sensor satellite imagery.

The package holds the science of the workflow, one subpackage a stage (README.md, "Layout"):
``scenes``, ``sources``, ``glaciers``, ``preprocess``, ``inference``, ``fronts``,
``timeseries``, ``synthetic``, ``evaluation``, ``report``, ``dataset``, ``workflow``,
``models`` and ``training``, with the shared pieces (``config``, ``grid``, ``raster_io``,
``rejection``, ``logs``, ``help_text``) and the ``cli`` at the top.
"""

__version__ = "0.1.0"
