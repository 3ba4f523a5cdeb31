"""The zones derived from FrontLearning fronts for a sample of images (every 15th, sorted):
glacier in blue, ocean in yellow, the label in red, unknown left as the image.

    python docs/training/zones-cpu-2026-12-03/derived_zones_figure.py OUT.png
"""

import sys

import numpy as np
from PIL import Image

from calvingfronts.evaluation.frontlearning import ZONE_GLACIER, ZONE_OCEAN
from calvingfronts.training.datasets import load_frontlearning

samples = load_frontlearning("../shared/data/frontlearning/train", zones=True)[::15][:8]
tiles = []
for sample in samples:
    grey = np.repeat((sample.values * 255)[..., None], 3, axis=2)
    for zone, colour in ((ZONE_GLACIER, (0, 160, 255)), (ZONE_OCEAN, (255, 200, 0))):
        grey[sample.zones == zone] = 0.5 * grey[sample.zones == zone] + 0.5 * np.array(colour)
    grey[sample.front] = (255, 0, 0)
    tiles.append(grey.astype(np.uint8))
Image.fromarray(np.concatenate(tiles, axis=1)).save(sys.argv[1])
print("\n".join(s.name for s in samples))
