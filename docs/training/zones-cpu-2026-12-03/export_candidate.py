"""Export a zone-and-front candidate's weights (``final.pt``, which holds its config) to the
workflow's ONNX contract, zone head included, so evaluate-images and the workflow can run
it: python docs/training/zones-cpu-2026-12-03/export_candidate.py FINAL.pt OUT.onnx
"""

import sys

import torch

from calvingfronts.training.config import TrainConfig
from calvingfronts.training.export import export_onnx
from calvingfronts.training.publish import check_parity, onnx_metadata
from calvingfronts.training.train import build_network

saved = torch.load(sys.argv[1], map_location="cpu", weights_only=False)
config = TrainConfig.from_dict(saved["config"])
network = build_network(config, saved["model"]).eval()
path = export_onnx(network, sys.argv[2], onnx_metadata(config))
print(path, "parity", check_parity(network, path))
