"""The networks: every registered architecture builds and keeps the input resolution."""

import pytest
import torch

from calvingfronts.models import MODELS, build_model
from calvingfronts.models.drn import DRN
from calvingfronts.models.layers import scaled


@pytest.mark.parametrize("name", sorted(MODELS))
def test_output_at_input_resolution(name):
    model = build_model(name, width=0.125).eval()
    with torch.no_grad():
        out = model(torch.rand(2, 1, 64, 96))
    assert out.shape == (2, 1, 64, 96)
    assert torch.isfinite(out).all()


def test_zone_head_adds_channels():
    model = build_model("deeplabv3plus-drn-d-22", width=0.125, out_channels=4).eval()
    with torch.no_grad():
        assert model(torch.rand(2, 1, 32, 32)).shape == (2, 4, 32, 32)


def test_drn_keeps_stride_8_and_low_level_stride_4():
    backbone = DRN(depth=22, width=0.125).eval()
    with torch.no_grad():
        low, high = backbone(torch.rand(1, 1, 64, 64))
    assert low.shape[-1] == 16 and high.shape[-1] == 8
    assert high.shape[1] == backbone.high_channels


def test_drn_d_54_uses_bottlenecks():
    assert DRN(depth=54, width=0.125).low_channels == 4 * scaled(64, 0.125)


def test_unknown_model_name():
    with pytest.raises(ValueError, match="unknown model"):
        build_model("vgg16")


def test_width_rounds_to_multiples_of_four():
    assert scaled(16, 0.25) == 4 and scaled(512, 0.25) == 128 and scaled(16, 0.01) == 4
