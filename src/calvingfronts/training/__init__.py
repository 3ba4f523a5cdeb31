"""Training of the front-detection networks (needs the ``train`` extra: torch, onnx).

Entry point: :func:`calvingfronts.training.train.train`; export:
:func:`calvingfronts.training.export.export_onnx`.
"""
