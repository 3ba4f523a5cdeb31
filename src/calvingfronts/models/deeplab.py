"""DeepLabv3+ (Chen et al. 2018, "Encoder-Decoder with Atrous Separable Convolution").

Encoder: any backbone returning (stride-4 features, deep features); Atrous Spatial Pyramid
Pooling on the deep features (a 1x1 branch, three dilated 3x3 branches, and image-level
pooling). Decoder: the ASPP output upsampled to stride 4, fused with the projected
low-level features (which carry the fine position of the front), two 3x3 convolutions,
then bilinear upsampling to the input resolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from calvingfronts.models.layers import conv_bn_relu, init_weights, scaled

# The paper's rates are (6, 12, 18) at output stride 16 and doubled at 8. Training tiles here
# are small (256 px -> 32 px at stride 8), where rate 36 only sees padding; (6, 12, 18) keeps
# every branch inside the tile for both strides, so training and large-tile inference agree.
DEFAULT_RATES = (6, 12, 18)


class ASPP(nn.Module):
    """Atrous Spatial Pyramid Pooling with image-level features."""

    def __init__(self, in_ch: int, out_ch: int, rates: tuple[int, ...], dropout: float = 0.1):
        super().__init__()
        self.branches = nn.ModuleList(
            [conv_bn_relu(in_ch, out_ch, 1)]
            + [conv_bn_relu(in_ch, out_ch, 3, dilation=r) for r in rates]
        )
        # Image pooling: global context (is there a fjord, where is the ice?) for every pixel.
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), conv_bn_relu(in_ch, out_ch, 1))
        self.project = nn.Sequential(
            conv_bn_relu(out_ch * (len(rates) + 2), out_ch, 1), nn.Dropout(dropout)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [branch(x) for branch in self.branches]
        outs.append(self.pool(x).expand(-1, -1, x.shape[2], x.shape[3]))
        return self.project(torch.cat(outs, dim=1))


class DeepLabV3Plus(nn.Module):
    """DeepLabv3+ head on a backbone; output logits at the input resolution."""

    def __init__(
        self,
        backbone: nn.Module,
        out_channels: int = 1,
        width: float = 1.0,
        atrous_rates: tuple[int, ...] = DEFAULT_RATES,
    ):
        super().__init__()
        self.backbone = backbone
        aspp_ch, low_ch, dec_ch = scaled(256, width), scaled(48, width), scaled(256, width)
        self.aspp = ASPP(backbone.high_channels, aspp_ch, tuple(atrous_rates))
        self.low_project = conv_bn_relu(backbone.low_channels, low_ch, 1)
        self.decoder = nn.Sequential(
            conv_bn_relu(aspp_ch + low_ch, dec_ch, 3),
            conv_bn_relu(dec_ch, dec_ch, 3),
        )
        self.classifier = nn.Conv2d(dec_ch, out_channels, 1)
        init_weights(self.aspp)
        init_weights(self.low_project)
        init_weights(self.decoder)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low, high = self.backbone(x)
        high = F.interpolate(
            self.aspp(high), size=low.shape[2:], mode="bilinear", align_corners=False
        )
        out = self.classifier(self.decoder(torch.cat([high, self.low_project(low)], dim=1)))
        return F.interpolate(out, size=x.shape[2:], mode="bilinear", align_corners=False)
