"""U-Net (Ronneberger et al. 2015), the architecture of Mohajerani et al. (2019).

Four 2x down-sampling steps, each undone by a bilinear upsampling that is concatenated with
the encoder features of the same resolution (skip connections) and two 3x3 convolutions.
BatchNorm is added after every convolution (trains from scratch more reliably); bilinear
upsampling instead of transposed convolutions avoids checkerboard patterns along the front.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from calvingfronts.models.layers import conv_bn_relu, init_weights, scaled


def _double_conv(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(conv_bn_relu(in_ch, out_ch), conv_bn_relu(out_ch, out_ch))


class UNet(nn.Module):
    """U-Net with ``depth`` pooling steps; logits at the input resolution."""

    def __init__(
        self, in_channels: int = 1, out_channels: int = 1, width: float = 1.0, depth: int = 4
    ):
        super().__init__()
        chans = [scaled(64 * 2**i, width) for i in range(depth + 1)]
        self.encoders = nn.ModuleList(
            [_double_conv(in_channels, chans[0])]
            + [_double_conv(chans[i], chans[i + 1]) for i in range(depth)]
        )
        self.decoders = nn.ModuleList(
            [_double_conv(chans[i + 1] + chans[i], chans[i]) for i in reversed(range(depth))]
        )
        self.classifier = nn.Conv2d(chans[0], out_channels, 1)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        x = skips.pop()
        for decoder in self.decoders:
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=False)
            x = decoder(torch.cat([x, skip], dim=1))
        return self.classifier(x)
