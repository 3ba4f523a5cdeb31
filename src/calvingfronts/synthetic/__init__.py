"""The synthetic glacier: its world, layers, noise, scene conditions and optical and radar
scenes (the offline demo and training data).
"""
