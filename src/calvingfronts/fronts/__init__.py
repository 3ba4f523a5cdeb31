"""From a probability map to a front: vectorizing, the front's quality figures and its
uncertainty.
"""
