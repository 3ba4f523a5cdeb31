"""Start training from a shipped ONNX model: its weights back into the PyTorch network.

The shipped models exist only as ONNX files (one network, or an ensemble of ``member<k>/``
networks, :mod:`calvingfronts.training.ensemble`). Their export folded every BatchNorm
into the convolution before it, so a BatchNorm's statistics and scale can no longer be told
apart from the convolution's weights. The network is rebuilt exactly all the same: each
convolution takes the folded weights, and its BatchNorm becomes the identity plus the
folded bias, with statistics that never change again
(:class:`FrozenStatisticsBatchNorm2d`). Fine-tuning then moves the convolutions and the
BatchNorms' scale and shift, while a batch's own statistics would undo the folding.

Convolutions are matched in the order the network runs them, which is the order of the
ONNX graph's Conv nodes; each must have the same shape, or the file is refused by name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn


class FrozenStatisticsBatchNorm2d(nn.BatchNorm2d):
    """A BatchNorm that normalizes with its stored statistics in training too (and never
    updates them); its scale and shift still train."""

    def train(self, mode: bool = True):
        return super().train(False)


def freeze_batchnorm_statistics(network: nn.Module) -> int:
    """Turn every BatchNorm2d of ``network`` into a FrozenStatisticsBatchNorm2d in place
    (same parameters, buffers and state-dict keys); returns how many."""
    count = 0
    for module in network.modules():
        if type(module) is nn.BatchNorm2d:
            module.__class__ = FrozenStatisticsBatchNorm2d
            module.train(False)
            count += 1
    return count


def has_frozen_statistics(network: nn.Module) -> bool:
    """Whether ``network``'s BatchNorms are frozen (checkpoints record it, so that a resumed
    run or a later stage freezes them again)."""
    return any(isinstance(m, FrozenStatisticsBatchNorm2d) for m in network.modules())


def _execution_order(network: nn.Module, sample_size: tuple[int, int]) -> list[nn.Module]:
    """The Conv2d and BatchNorm2d modules in the order one forward pass calls them."""
    called: list[nn.Module] = []
    hooks = [
        module.register_forward_hook(lambda module, args, output: called.append(module))
        for module in network.modules()
        if isinstance(module, nn.Conv2d | nn.BatchNorm2d)
    ]
    was_training = network.training
    network.eval()
    try:
        parameter = next(network.parameters())
        with torch.no_grad():
            network(torch.zeros(1, 1, *sample_size, device=parameter.device, dtype=parameter.dtype))
    finally:
        for hook in hooks:
            hook.remove()
        network.train(was_training)
    return called


def network_count(path: str | Path) -> int:
    """How many networks the ONNX file holds (an ensemble's ``member<k>/`` prefixes)."""
    import onnx

    return max(1, len(_member_prefixes(onnx.load(str(path)))))


def check_onnx_start(path: str | Path, first_member: int, networks: int) -> None:
    """Refuse, before any training, a start whose networks ``first_member`` ..
    ``first_member + networks - 1`` the file does not hold."""
    held = network_count(path)
    if first_member + networks > held:
        raise ValueError(
            f"{path}: holds {held} network(s), but the run starts {networks} network(s) from "
            f"network {first_member} on (init_member {first_member}, ensemble {networks})"
        )


def _member_prefixes(model) -> list[str]:
    names = [item.name for item in model.graph.initializer]
    return sorted({name.split("/", 1)[0] for name in names if name.startswith("member")})


def _conv_weights(path: Path, member: int | None) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(weight, bias or None) of each Conv node of one network of the file, in graph order."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    initializers = {item.name: item for item in model.graph.initializer}
    prefixes = _member_prefixes(model)
    if prefixes:
        if member is None or f"member{member}" not in prefixes:
            raise ValueError(
                f"{path}: an ensemble of {len(prefixes)} networks ({', '.join(prefixes)}); "
                f"init_member {member} is not one of them"
            )
        prefix = f"member{member}/"
    elif member not in (None, 0):
        raise ValueError(f"{path}: holds one network, so init_member must be 0, got {member}")
    else:
        prefix = ""
    weights = []
    for node in model.graph.node:
        if node.op_type == "BatchNormalization" and node.input[1].startswith(prefix):
            # Only folded BatchNorms can be rebuilt; a separate one's scale would be lost.
            raise ValueError(
                f"{path}: BatchNormalization node {node.name!r} was not folded into its "
                "convolution; a warm start reads exports whose BatchNorms are folded"
            )
        if node.op_type != "Conv" or not node.input[1].startswith(prefix):
            continue
        if node.input[1] not in initializers:
            raise ValueError(f"{path}: Conv node {node.name!r} has weights that are not stored")
        bias = None
        if len(node.input) > 2 and node.input[2]:
            bias = numpy_helper.to_array(initializers[node.input[2]])
        weights.append((numpy_helper.to_array(initializers[node.input[1]]), bias))
    return weights


def state_dict_from_onnx(
    network: nn.Module,
    path: str | Path,
    member: int | None = 0,
    sample_size: tuple[int, int] = (64, 64),
) -> dict[str, torch.Tensor]:
    """A state dict for ``network`` (the architecture the file was exported from) holding
    the weights of network ``member`` of the ONNX file ``path``, each BatchNorm the
    identity plus the folded bias: with frozen statistics
    (:func:`freeze_batchnorm_statistics`) it computes what the file computes."""
    path = Path(path)
    stored = _conv_weights(path, member)
    called = _execution_order(network, sample_size)
    pairs = []  # (conv, the BatchNorm that follows it or None)
    for position, module in enumerate(called):
        if not isinstance(module, nn.Conv2d):
            continue
        following = called[position + 1] if position + 1 < len(called) else None
        if isinstance(following, nn.BatchNorm2d) and following.num_features == module.out_channels:
            pairs.append((module, following))
        else:
            pairs.append((module, None))
    if len(pairs) != len(stored):
        raise ValueError(
            f"{path}: {len(stored)} convolutions, but the network has {len(pairs)}: it was "
            "exported from another architecture or width"
        )
    names = {module: name for name, module in network.named_modules()}
    state = {key: value.clone() for key, value in network.state_dict().items()}
    for index, ((conv, norm), (weight, bias)) in enumerate(zip(pairs, stored, strict=True)):
        if tuple(weight.shape) != tuple(conv.weight.shape):
            raise ValueError(
                f"{path}: convolution {index} ({names[conv]}) is {tuple(weight.shape)} in "
                f"the file and {tuple(conv.weight.shape)} in the network"
            )
        name = names[conv]
        state[f"{name}.weight"] = torch.from_numpy(weight.copy())
        shift = torch.zeros(weight.shape[0]) if bias is None else torch.from_numpy(bias.copy())
        if norm is not None:
            if conv.bias is not None:
                state[f"{name}.bias"] = torch.zeros_like(conv.bias)
            norm_name = names[norm]
            state[f"{norm_name}.weight"] = torch.ones(norm.num_features)
            state[f"{norm_name}.bias"] = shift
            state[f"{norm_name}.running_mean"] = torch.zeros(norm.num_features)
            # (x - 0) / sqrt(var + eps) is x exactly when var + eps = 1.
            state[f"{norm_name}.running_var"] = torch.full((norm.num_features,), 1.0 - norm.eps)
        elif conv.bias is not None:
            state[f"{name}.bias"] = shift
        elif bias is not None and np.any(bias):
            raise ValueError(
                f"{path}: convolution {index} ({name}) has a bias in the file but neither a "
                "bias nor a BatchNorm in the network"
            )
    return state
