"""The scene record and manifest, the sensors, each sensor's listing record, and what a
scene's fetch depends on.
"""
