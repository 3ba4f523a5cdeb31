"""Scoring fronts and models: distances, evaluate-fronts, evaluate-images, the
calibration of the uncertainty, trace-series.
"""
