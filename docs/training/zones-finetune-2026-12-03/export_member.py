"""Export one network of a shipped ONNX pair as a model of its own, zone head included (the
shipped networks trained one on the synthetic worlds' zones; their export dropped it), so
that score_readings.py can score the start of a fine-tuning run as it scores the run:

    python docs/training/zones-finetune-2026-12-03/export_member.py PAIR.onnx K OUT.onnx
"""

import sys
from pathlib import Path

import yaml

from calvingfronts.training.config import TrainConfig
from calvingfronts.training.export import export_onnx
from calvingfronts.training.publish import check_parity, onnx_metadata
from calvingfronts.training.train import build_network
from calvingfronts.training.warm_start import state_dict_from_onnx

pair, member, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
settings = yaml.safe_load(Path("config/config.yaml").read_text())["training"]
config = TrainConfig.from_dict({**settings, "name": Path(out).stem})
network = build_network(config)
network.load_state_dict(state_dict_from_onnx(network, pair, member))
network.eval()
path = export_onnx(network, out, onnx_metadata(config))
print(path, "parity", check_parity(network, path))
