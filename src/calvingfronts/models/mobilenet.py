"""MobileNetV2 backbone (Sandler et al. 2018) for DeepLabv3+, one input band.

Inverted residual blocks: 1x1 expansion, 3x3 depthwise convolution, linear 1x1 projection,
residual where the shape allows. For DeepLabv3+ the last strided stage is dilated instead
(output stride 16) and the final 1x1 1280-channel layer is dropped, as in the DeepLabv3+
paper's MobileNet variant. The cheapest backbone here on CPU.
"""

from __future__ import annotations

import torch
from torch import nn

from calvingfronts.models.layers import conv_bn_relu, init_weights, scaled

# (expansion t, channels c, repeats n, stride s) from the MobileNetV2 paper, Table 2.
_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


class InvertedResidual(nn.Module):
    """Expand (1x1), depthwise 3x3 (strided or dilated), project (1x1, linear)."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, expansion: int, dilation: int = 1):
        super().__init__()
        hidden = in_ch * expansion
        layers = [] if expansion == 1 else [conv_bn_relu(in_ch, hidden, 1, activation=nn.ReLU6)]
        layers += [
            conv_bn_relu(
                hidden,
                hidden,
                3,
                stride=stride,
                dilation=dilation,
                groups=hidden,
                activation=nn.ReLU6,
            ),
            nn.Conv2d(hidden, out_ch, 1, bias=False),
            nn.BatchNorm2d(out_ch),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.residual else out


class MobileNetV2(nn.Module):
    """MobileNetV2 backbone: ``forward(x) -> (stride-4 features, stride-16 features)``."""

    output_stride = 16

    def __init__(self, in_channels: int = 1, width: float = 1.0):
        super().__init__()
        in_ch = scaled(32, width)
        low_blocks: list[nn.Module] = [
            conv_bn_relu(in_channels, in_ch, 3, stride=2, activation=nn.ReLU6)
        ]
        high_blocks: list[nn.Module] = []
        stride_so_far, dilation = 2, 1
        for t, c, n, s in _SETTINGS:
            out_ch = scaled(c, width)
            for i in range(n):
                stride = s if i == 0 else 1
                if stride == 2 and stride_so_far == 16:
                    stride, dilation = 1, 2  # keep output stride 16: dilate instead
                elif stride == 2:
                    stride_so_far *= 2
                block = InvertedResidual(in_ch, out_ch, stride, t, dilation)
                # Features up to the 24-channel stage are at stride 4: the decoder's input.
                (low_blocks if stride_so_far <= 4 else high_blocks).append(block)
                in_ch = out_ch
                if stride_so_far <= 4:
                    self.low_channels = out_ch
        self.low = nn.Sequential(*low_blocks)
        self.high = nn.Sequential(*high_blocks)
        self.high_channels = in_ch
        init_weights(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        low = self.low(x)
        return low, self.high(low)
