"""Small building blocks shared by the networks.

Every network here takes a ``width`` multiplier so the same published architecture can be
shrunk until it trains on two CPU cores; :func:`scaled` is the one place that decides how.
"""

from __future__ import annotations

from torch import nn


def scaled(channels: int, width: float, minimum: int = 4) -> int:
    """Channels times the width multiplier, rounded to a multiple of 4 (and at least 4).

    Multiples of 4 keep grouped/depthwise convolutions and BatchNorm well behaved at tiny
    widths; the floor stops a stage from vanishing at width 0.125.
    """
    return max(minimum, int(round(channels * width / 4.0)) * 4)


def conv_bn_relu(
    in_channels: int,
    out_channels: int,
    kernel_size: int = 3,
    stride: int = 1,
    dilation: int = 1,
    groups: int = 1,
    activation: type[nn.Module] = nn.ReLU,
) -> nn.Sequential:
    """Convolution (no bias: BatchNorm follows), BatchNorm, activation; 'same' padding."""
    padding = dilation * (kernel_size - 1) // 2
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=False,
        ),
        nn.BatchNorm2d(out_channels),
        activation(inplace=True),
    )


def init_weights(module: nn.Module) -> None:
    """He initialisation for convolutions, unit BatchNorm: the usual start from scratch."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
