"""ResNet backbones (He et al. 2016) for DeepLabv3+, one input band, dilatable last stages.

Unlike DRN, ResNet keeps the 7x7 stride-2 stem and max-pool (stride 4 after the stem);
DeepLabv3+ (Chen et al. 2018) turns the last stage's stride into dilation 2 for an output
stride of 16 (or the last two stages, dilation 2 and 4, for 8).
"""

from __future__ import annotations

import torch
from torch import nn

from calvingfronts.models.drn import BasicBlock, Bottleneck
from calvingfronts.models.layers import conv_bn_relu, init_weights, scaled

_DEPTHS = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
}


class ResNet(nn.Module):
    """ResNet-18/34/50 backbone: ``forward(x) -> (stride-4 features, stride-8/16 features)``."""

    def __init__(
        self, depth: int = 18, in_channels: int = 1, width: float = 1.0, output_stride: int = 16
    ):
        super().__init__()
        if depth not in _DEPTHS:
            raise ValueError(f"ResNet depth must be one of {sorted(_DEPTHS)}, got {depth}")
        if output_stride not in (8, 16):
            raise ValueError("output_stride must be 8 or 16")
        block, layers = _DEPTHS[depth]
        c0 = scaled(64, width)
        self.stem = nn.Sequential(
            conv_bn_relu(in_channels, c0, kernel_size=7, stride=2),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        # (stride, dilation) of stages 2-4 for the requested output stride.
        plan = [(2, 1), (2, 1), (1, 2)] if output_stride == 16 else [(2, 1), (1, 2), (1, 4)]
        stages, in_ch = [], c0
        for i, count in enumerate(layers):
            stride, dilation = (1, 1) if i == 0 else plan[i - 1]
            planes = scaled(64 * 2**i, width)
            blocks = [block(in_ch, planes, stride=stride, dilation=(dilation, dilation))]
            in_ch = planes * block.expansion
            blocks += [
                block(in_ch, planes, dilation=(dilation, dilation)) for _ in range(count - 1)
            ]
            stages.append(nn.Sequential(*blocks))
            if i == 0:
                self.low_channels = in_ch
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.high_channels = in_ch
        self.output_stride = output_stride
        init_weights(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        low = self.layer1(self.stem(x))
        return low, self.layer4(self.layer3(self.layer2(low)))
