"""Inference with ONNX Runtime: the front model, its tiles and views, network calls shared
by scenes, the default model.
"""
