"""Network registry: one name per architecture, ``build_model(name, **kw)``.

Common keywords: ``in_channels`` (1: the normalized band), ``out_channels`` (1: the front
logit; more where an extra zone head is trained, channel 0 is always the front), ``width``
(channel multiplier, e.g. 0.25 for CPU-sized models). DeepLabv3+ also takes
``atrous_rates`` and, for ResNet, ``output_stride`` (8 or 16).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import nn

from calvingfronts.models.deeplab import DEFAULT_RATES, DeepLabV3Plus
from calvingfronts.models.drn import DRN
from calvingfronts.models.mobilenet import MobileNetV2
from calvingfronts.models.resnet import ResNet
from calvingfronts.models.unet import UNet


def _deeplab(
    backbone: Callable[..., nn.Module],
    *,
    in_channels: int = 1,
    out_channels: int = 1,
    width: float = 1.0,
    atrous_rates=DEFAULT_RATES,
    **backbone_kw,
) -> nn.Module:
    return DeepLabV3Plus(
        backbone(in_channels=in_channels, width=width, **backbone_kw),
        out_channels=out_channels,
        width=width,
        atrous_rates=atrous_rates,
    )


MODELS: dict[str, Callable[..., nn.Module]] = {
    "deeplabv3plus-drn-d-22": partial(_deeplab, partial(DRN, depth=22)),
    "deeplabv3plus-drn-d-38": partial(_deeplab, partial(DRN, depth=38)),
    "deeplabv3plus-drn-d-54": partial(_deeplab, partial(DRN, depth=54)),
    "deeplabv3plus-resnet18": partial(_deeplab, partial(ResNet, depth=18)),
    "deeplabv3plus-resnet50": partial(_deeplab, partial(ResNet, depth=50)),
    "deeplabv3plus-mobilenetv2": partial(_deeplab, MobileNetV2),
    "unet": UNet,
}

# Human-readable description for model cards and ONNX metadata.
_DRN = "DeepLabv3+ (Chen et al. 2018) with a DRN-D-{} backbone (Yu et al. 2017)"
ARCHITECTURES = {
    "deeplabv3plus-drn-d-22": _DRN.format(22),
    "deeplabv3plus-drn-d-38": _DRN.format(38),
    "deeplabv3plus-drn-d-54": _DRN.format(54),
    "deeplabv3plus-resnet18": "DeepLabv3+ (Chen et al. 2018) with a ResNet-18 backbone",
    "deeplabv3plus-resnet50": "DeepLabv3+ (Chen et al. 2018) with a ResNet-50 backbone",
    "deeplabv3plus-mobilenetv2": "DeepLabv3+ (Chen et al. 2018) with a MobileNetV2 backbone",
    "unet": "U-Net (Ronneberger et al. 2015), as used by Mohajerani et al. (2019)",
}


def build_model(name: str, **kw) -> nn.Module:
    """Build the named network (random initialisation: no pretrained weights exist here)."""
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(MODELS)}") from None
    return factory(**kw)


def describe(name: str, width: float = 1.0) -> str:
    """Architecture description including the width multiplier."""
    text = ARCHITECTURES[name]
    return text if width == 1.0 else f"{text}, channel width x{width:g}"
