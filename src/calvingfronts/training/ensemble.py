"""An ensemble of independently trained networks, shipped as one ONNX model.

Two runs of the same recipe that differ only in their random start and batches make
different mistakes: on the leave-one-glacier-out folds, the second run of the recipe alone
was 290 m from the first on the Jakobshavn fold, while the mean of both runs' probabilities
beat either (docs/training/ensemble-2026-11-26.md). The members are trained one after
another, each with a seed of its own, and exported into one graph that averages their
front probabilities (and their zones, where they have a zone head), so the workflow's
contract (docs/CONTRACTS.md) does not change: one file, one input, the same outputs.

Member 0 is the run itself (its ``run_dir``, its ``seed``); member ``i`` trains in
``<run_dir>/member<i>`` with ``seed + i``, so adding a member to a finished run keeps the
run and trains only the new one.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import torch
from torch import nn

from calvingfronts.training.config import is_onnx_path

MEMBER_DIR = "member{member}"
# Largest |merged - mean of the members| probability accepted from ONNX Runtime.
MERGE_TOLERANCE = 1e-5


def member_config(config: dict, member: int) -> dict:
    """``config`` (a run's training keys) for ensemble member ``member``, as one network.

    Member 0 is the run itself (its name, seed and ``run_dir``); the others train with a
    seed and in a folder of their own. Each exports its own ONNX file and card into its
    folder, which :func:`merge_onnx` then averages into the run's ``output``.
    """
    if member < 0:
        raise ValueError(f"ensemble member must be >= 0, got {member}")
    run_dir = Path(config.get("run_dir", "training_runs/{name}").format(name=config["name"]))
    name = f"{config['name']}-member{member}"
    folder = run_dir if member == 0 else run_dir / MEMBER_DIR.format(member=member)
    start = {}
    if is_onnx_path(config.get("init_from")):
        # A warm start from an ensemble's ONNX file: member k from its network k.
        start = {"init_member": int(config.get("init_member", 0)) + member}
    return {
        **config,
        **start,
        "name": config["name"] if member == 0 else name,
        "seed": int(config.get("seed", 0)) + member,
        "run_dir": str(folder),
        "output": str(folder / f"{name}.onnx"),
        "card": str(folder / f"{name}.md"),
        "ensemble": 1,
    }


def merge_onnx(members: list[str | Path], path: str | Path, metadata: dict[str, object]) -> Path:
    """Write one ONNX model to ``path`` whose ``front_probability`` is the mean of the
    ``members``' (each an exported model of the contract, export.export_onnx).

    Every member reads the one shared ``image`` input; its nodes, weights and output are
    renamed with a prefix of their own, and an ONNX ``Mean`` node averages the outputs. The
    metadata replaces the members' (export.REQUIRED_METADATA applies). Written atomically.
    """
    import onnx
    from onnx import compose, helper

    from calvingfronts.training.export import (
        INPUT_NAME,
        OUTPUT_NAME,
        REQUIRED_METADATA,
        ZONE_OUTPUT_NAME,
    )

    if len(members) < 2:
        raise ValueError(f"an ensemble needs at least 2 members, got {len(members)}")
    missing = [key for key in REQUIRED_METADATA if key not in metadata]
    if missing:
        raise ValueError(f"ONNX metadata missing {missing}")
    models = [onnx.load(str(member)) for member in members]
    first = models[0]
    expected = [o.name for o in first.graph.output]
    for member, model in zip(members, models, strict=True):
        inputs = [i.name for i in model.graph.input]
        outputs = [o.name for o in model.graph.output]
        if inputs != [INPUT_NAME] or outputs not in (
            [OUTPUT_NAME],
            [OUTPUT_NAME, ZONE_OUTPUT_NAME],
        ):
            raise ValueError(
                f"{member}: inputs {inputs} and outputs {outputs}, expected "
                f"[{INPUT_NAME!r}] and [{OUTPUT_NAME!r}] or [{OUTPUT_NAME!r}, "
                f"{ZONE_OUTPUT_NAME!r}] (docs/CONTRACTS.md)"
            )
        if outputs != expected:
            raise ValueError(f"{member}: outputs {outputs} differ from {members[0]}'s {expected}")
        if list(model.opset_import) != list(first.opset_import):
            raise ValueError(f"{member}: opset {model.opset_import} differs from {members[0]}")
    if ZONE_OUTPUT_NAME in expected:
        # The zones' names travel with their output: the members' own, whatever the caller's
        # metadata says (FrontModel refuses a zone output without them).
        zones = {p.value for m in models for p in m.metadata_props if p.key == "zones"}
        if len(zones) != 1:
            raise ValueError(f"the members name their zones differently or not at all: {zones}")
        metadata = {**metadata, "zones": zones.pop()}
    nodes, initializers, value_info = [], [], []
    averaged: list[list[str]] = [[] for _ in expected]
    for i, model in enumerate(models):
        graph = compose.add_prefix_graph(model.graph, f"member{i}/", rename_inputs=False)
        nodes.extend(graph.node)
        initializers.extend(graph.initializer)
        value_info.extend(graph.value_info)
        for output, names in zip(graph.output, averaged, strict=True):
            names.append(output.name)
    # The mean of the members' zone softmaxes is still a distribution over the zones.
    for name, names in zip(expected, averaged, strict=True):
        nodes.append(helper.make_node("Mean", names, [name], name=f"ensemble_mean_{name}"))
    graph = helper.make_graph(
        nodes,
        "ensemble",
        [first.graph.input[0]],
        list(first.graph.output),
        initializer=initializers,
        value_info=value_info,
    )
    merged = helper.make_model(graph, opset_imports=first.opset_import)
    merged.ir_version = first.ir_version
    for key, value in metadata.items():
        prop = merged.metadata_props.add()
        prop.key, prop.value = str(key), str(value)
    onnx.checker.check_model(merged)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".onnx.tmp")
    onnx.save(merged, str(tmp))
    tmp.replace(path)
    return path


def check_merge(members: list[str | Path], merged: str | Path, size=(96, 160)) -> float:
    """Max |merged model - mean of its members| probability on a random image, all run by
    ONNX Runtime; raises above :data:`MERGE_TOLERANCE`."""
    import numpy as np
    import onnxruntime

    image = np.random.default_rng(0).random((1, 1, *size), dtype=np.float32)

    def run(path):
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {"image": image})

    # Every output (the front's, and the zones' where the members have them) is the mean.
    expected = [np.mean(outputs, axis=0) for outputs in zip(*map(run, members), strict=True)]
    got = run(merged)
    diff = max(float(np.abs(g - e).max()) for g, e in zip(got, expected, strict=True))
    if diff > MERGE_TOLERANCE:
        raise RuntimeError(f"{merged}: differs from the mean of its members by {diff:.2e}")
    return diff


def _card_line(card: str, prefix: str) -> str:
    return next((line for line in card.splitlines() if line.startswith(prefix)), "")


def ensemble_card(
    members: list[Path],
    merged: Path,
    name: str,
    held_out: str | None = None,
    config: dict | None = None,
) -> str:
    """The merged model's card, made from member 0's (data, credits, recipe) with the
    merged file, a table of the members and, when given, the ensemble's held-out figures
    (``held_out``) and configuration; each member's card is its ONNX file's ``.md``."""
    from calvingfronts.training.export import sha256
    from calvingfronts.training.model_card import with_section

    cards = [Path(member).with_suffix(".md").read_text() for member in members]
    card = cards[0].split("\n", 1)[1]
    card = f"# Model card: {name}\n" + card
    file_line = _card_line(card, "- File: ")
    card = card.replace(
        file_line,
        f"- File: `{merged.name}` (ONNX opset 17), sha256 `{sha256(merged)}`: an ensemble of "
        f"{len(members)} networks of the same recipe, their front probabilities averaged "
        "inside the graph (section Ensemble)",
    )
    rows = [
        "Each network was trained on its own with the recipe below and a seed of its own "
        "(calvingfronts.training.ensemble); the file holds all of them and returns the mean "
        "of their front probabilities, so the workflow runs it as any model. Every view "
        "(`members`) of the workflow's inference is a view of the whole ensemble.",
        "",
        "| network | seed | file (sha256) | training |",
        "| --- | --- | --- | --- |",
    ]
    for i, (member, text) in enumerate(zip(members, cards, strict=True)):
        steps = _card_line(text, "- Steps: ")
        seed = re.search(r"seed (\d+)", steps)
        time = _card_line(text, "- Time: ").removeprefix("- Time: ")
        count = re.match(r"- Steps: (\d+)", steps)
        rows.append(
            f"| {i} | {seed.group(1) if seed else '?'} | `{Path(member).name}` "
            f"(`{sha256(member)[:12]}`) | {count.group(1) if count else '?'} steps, {time} |"
        )
    card = with_section(card, "Ensemble", "\n".join(rows), keep_place=True)
    if held_out is None and "mean distance:" in card:
        # Member 0's figures would pass for the ensemble's: say where they are instead.
        held_out = (
            "The merge does not measure the ensemble on its held-out glacier; each network's "
            "own card gives its figures. Measure the merged file with `evaluate-images "
            f"--model {merged.name} --glacier GLACIER ...`."
        )
    if held_out is not None:
        card = with_section(card, "Held-out-glacier error", held_out, keep_place=True)
    if config is not None:
        start = card.index("## Configuration")
        card = card[:start] + (
            f"## Configuration\n\n```json\n{json.dumps(config, indent=2)}\n```\n"
        )
    return card


class MeanProbability(nn.Module):
    """The logit of ``networks``' mean front probability (channel 0), so code that applies
    a sigmoid to a network's first channel (validation) sees the ensemble."""

    def __init__(self, networks: list[nn.Module]):
        super().__init__()
        self.networks = nn.ModuleList(networks)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        probability = torch.stack(
            [torch.sigmoid(network(image)[:, :1]) for network in self.networks]
        ).mean(dim=0)
        return torch.logit(probability, eps=1e-7)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Merge exported models of one recipe (each with its .md card) into one "
        "ONNX model that averages their front probabilities, with its card.",
    )
    parser.add_argument("members", nargs="+", type=Path, help="member ONNX files, member 0 first")
    parser.add_argument("--output", type=Path, required=True, help="the merged ONNX file")
    parser.add_argument("--name", help="model name (default: the output's stem)")
    args = parser.parse_args(argv)
    import onnx

    from calvingfronts.raster_io import write_text

    for member in args.members:
        if member.resolve() == args.output.resolve():
            parser.error(f"{member}: the output would overwrite this member; move it first")
        if not member.with_suffix(".md").exists():
            parser.error(f"{member}: no model card {member.with_suffix('.md')} beside it")
    name = args.name or args.output.stem
    first = onnx.load(str(args.members[0]), load_external_data=False)
    metadata = {p.key: p.value for p in first.metadata_props}
    metadata.update(model_name=name, ensemble_networks=str(len(args.members)))
    merged = merge_onnx(args.members, args.output, metadata)
    check_merge(args.members, merged)
    card = args.output.with_suffix(".md")
    write_text(card, ensemble_card(args.members, merged, name))
    print(f"wrote {merged} and {card}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
