"""Dilated Residual Networks, type D (Yu, Koltun & Funkhouser 2017, "Dilated Residual Networks").

What makes DRN-D different from a ResNet, and why it suits calving fronts:

- the stem is convolutions only (no max-pool), so thin, high-frequency structures such as a
  front line are not aliased away in the first layers;
- the last two residual stages keep stride 8 and use dilation 2 and 4 instead of striding,
  so the receptive field grows without losing resolution;
- two "degridding" stages at the end (plain convolutions with dilation 2 then 1, no residual
  connection) remove the checkerboard artefacts that dilation leaves behind.

Variants (paper, Table 1): DRN-D-22 and DRN-D-38 use basic blocks, DRN-D-54 bottlenecks.
The backbone returns the stride-4 features (for the DeepLabv3+ decoder) and the stride-8
output.
"""

from __future__ import annotations

import torch
from torch import nn

from calvingfronts.models.layers import conv_bn_relu, init_weights, scaled

# Stage channels of DRN-D (paper); stages 3-6 are multiplied by the block's expansion.
_CHANNELS = (16, 32, 64, 128, 256, 512, 512, 512)
_DEPTHS = {
    22: ("basic", (1, 1, 2, 2, 2, 2, 1, 1)),
    38: ("basic", (1, 1, 3, 4, 6, 3, 1, 1)),
    54: ("bottleneck", (1, 1, 3, 4, 6, 3, 1, 1)),
}


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (He et al. 2016), dilatable."""

    expansion = 1

    def __init__(
        self, in_ch: int, planes: int, stride: int = 1, dilation: tuple[int, int] = (1, 1)
    ):
        super().__init__()
        out_ch = planes * self.expansion
        self.conv1 = nn.Conv2d(
            in_ch, planes, 3, stride, padding=dilation[0], dilation=dilation[0], bias=False
        )
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(
            planes, out_ch, 3, 1, padding=dilation[1], dilation=dilation[1], bias=False
        )
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _shortcut(in_ch, out_ch, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided or dilated), 1x1 expand by 4, residual connection."""

    expansion = 4

    def __init__(
        self, in_ch: int, planes: int, stride: int = 1, dilation: tuple[int, int] = (1, 1)
    ):
        super().__init__()
        out_ch = planes * self.expansion
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, planes, 1, bias=False),
            nn.BatchNorm2d(planes),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                planes, planes, 3, stride, padding=dilation[1], dilation=dilation[1], bias=False
            ),
            nn.BatchNorm2d(planes),
            nn.ReLU(inplace=True),
            nn.Conv2d(planes, out_ch, 1, bias=False),
            nn.BatchNorm2d(out_ch),
        )
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = _shortcut(in_ch, out_ch, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


def _shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Module:
    """Identity, or a strided 1x1 projection where the shape changes."""
    if stride == 1 and in_ch == out_ch:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))


class DRN(nn.Module):
    """DRN-D backbone: ``forward(x) -> (stride-4 features, stride-8 features)``."""

    output_stride = 8

    def __init__(self, depth: int = 22, in_channels: int = 1, width: float = 1.0):
        super().__init__()
        if depth not in _DEPTHS:
            raise ValueError(f"DRN-D depth must be one of {sorted(_DEPTHS)}, got {depth}")
        kind, layers = _DEPTHS[depth]
        block = BasicBlock if kind == "basic" else Bottleneck
        ch = [scaled(c, width) for c in _CHANNELS]
        self.layer0 = conv_bn_relu(in_channels, ch[0], kernel_size=7)
        self.layer1 = _conv_stage(ch[0], ch[0], layers[0], stride=1)
        self.layer2 = _conv_stage(ch[0], ch[1], layers[1], stride=2)
        self.layer3, c3 = _res_stage(block, ch[1], ch[2], layers[2], stride=2)
        self.layer4, c4 = _res_stage(block, c3, ch[3], layers[3], stride=2)
        # From here on: dilation instead of stride (resolution stays at 1/8).
        self.layer5, c5 = _res_stage(block, c4, ch[4], layers[4], dilation=2)
        self.layer6, c6 = _res_stage(block, c5, ch[5], layers[5], dilation=4)
        # Degridding: plain convolutions, no residual, dilation stepping back down.
        self.layer7 = _conv_stage(c6, ch[6], layers[6], dilation=2)
        self.layer8 = _conv_stage(ch[6], ch[7], layers[7], dilation=1)
        self.low_channels = c3
        self.high_channels = ch[7]
        init_weights(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.layer2(self.layer1(self.layer0(x)))
        low = self.layer3(x)
        x = self.layer6(self.layer5(self.layer4(low)))
        return low, self.layer8(self.layer7(x))


def _conv_stage(in_ch: int, out_ch: int, count: int, stride: int = 1, dilation: int = 1):
    """``count`` 3x3 conv-BN-ReLU layers; the first one may stride."""
    return nn.Sequential(
        *[
            conv_bn_relu(
                in_ch if i == 0 else out_ch,
                out_ch,
                stride=stride if i == 0 else 1,
                dilation=dilation,
            )
            for i in range(count)
        ]
    )


def _res_stage(block, in_ch: int, planes: int, count: int, stride: int = 1, dilation: int = 1):
    """A residual stage; returns (module, output channels)."""
    out_ch = planes * block.expansion
    blocks = [block(in_ch, planes, stride=stride, dilation=(dilation, dilation))]
    blocks += [block(out_ch, planes, dilation=(dilation, dilation)) for _ in range(count - 1)]
    return nn.Sequential(*blocks), out_ch
