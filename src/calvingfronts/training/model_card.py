"""The model card written next to every exported model (``models/<name>.md``)."""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path

FRONTLEARNING_CREDIT = (
    "FrontLearning Landsat subsets and manual front labels: Mohajerani, Wood, Velicogna & "
    "Rignot (2019), Detection of Glacier Calving Margins with Convolutional Neural Networks: "
    "A Case Study, Remote Sensing 11(1):74, doi:10.3390/rs11010074. Data licence CC-BY-4.0 "
    "(code MIT); the weights derived from them are shared under CC-BY-4.0 with this credit."
)
SYNTHETIC_CREDIT = (
    "Synthetic scenes from calvingfronts.synthetic.scenes (generated, no licence terms)."
)


def machine(device: str = "cpu") -> str:
    """A short description of the training machine: the GPU where one trained the network."""
    import torch  # here: the card's other helpers serve ONNX-only checks (synthetic_check)

    threads = torch.get_num_threads()
    where = f"{threads} CPU thread{'' if threads == 1 else 's'}"
    if device != "cpu" and torch.cuda.is_available():
        where = f"GPU {torch.cuda.get_device_name()} (CUDA {torch.version.cuda})"
    return (
        f"{platform.processor() or platform.machine()}, {platform.system()}, "
        f"torch {torch.__version__}, {where}"
    )


# Keys that differ between stages without changing what is learnt.
_NOT_COMPARED = ("run_dir", "output", "card", "name", "resume", "export", "init_from", "stages")


def _exported(config: dict, training: dict) -> str:
    averaged = training.get("averaged_epochs")
    if averaged:
        batches = training.get("batchnorm_batches")
        statistics = (
            "BatchNorm statistics kept frozen (a warm start from ONNX)"
            if batches == 0
            else f"BatchNorm statistics measured afresh on {batches} training batches"
        )
        return (
            f"- Exported weights: the mean of the weights of epochs {averaged[0]}-{averaged[-1]} "
            f"({len(averaged)} epochs, stochastic weight averaging), {statistics}"
        )
    which = "best held-out score" if config["select_best"] else "last epoch"
    return f"- Exported weights: epoch {training.get('exported_epoch', '?')} ({which})"


def _fmt(value, unit: str = "", digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def held_out_lines(glaciers: list[str], validation: dict | None) -> list[str]:
    """The card's held-out-glacier section (without its title)."""
    if not validation:
        return [
            "No glacier was held out in this run (trained on all glaciers); see the "
            "held-out run quoted below, if any."
        ]
    return [
        f"Held-out glaciers (never seen in training): **{', '.join(glaciers)}**, "
        f"{validation['n_images']} images, mean pixel {validation['pixel_size_m']:.1f} m.",
        "Measured with the workflow's own post-processing (extract_front, then "
        "calvingfronts.evaluation.metrics distances, both directions pooled):",
        "",
        f"- mean distance: **{_fmt(validation['mean_m'], ' m')}** "
        f"({_fmt(validation['mean_px'], ' px', 2)})",
        f"- median distance: {_fmt(validation['median_m'], ' m')}",
        f"- images with no front found: {validation['n_no_front']} of {validation['n_images']}",
        "",
        "Reference: Mohajerani et al. (2019) U-Net 96.3 m on held-out Helheim; "
        "Zhang et al. (2021) DRN-DeepLabv3+ with histogram equalization 86 m.",
    ]


def render(
    config: dict,
    description: str,
    data: dict,
    validation: dict | None,
    minutes: float,
    sha: str,
    onnx_path: Path,
    extra: str = "",
    training: dict | None = None,
) -> str:
    """Markdown for the card. ``validation`` is the held-out-glacier summary (or None);
    ``training`` holds what the run actually did (steps, exported epoch)."""
    training = training or {}
    kinds = {entry["kind"] for entry in config["data"]}
    credits = []
    if "frontlearning" in kinds:
        credits.append(FRONTLEARNING_CREDIT)
    if "synthetic" in kinds:
        credits.append(SYNTHETIC_CREDIT)
    if kinds - {"frontlearning", "synthetic"}:
        credits.append("Other sources: see the data table; cite them as their licences ask.")
    lines = [
        f"# Model card: {config['name']}",
        "",
        f"- File: `{onnx_path.name}` (ONNX opset 17), sha256 `{sha}`",
        f"- Version: {config['model_version']}",
        f"- Architecture: {description} (`{config['model']}`, width {config['width']})",
        f"- Input: `image` float32 (N, 1, H, W), H and W multiples of 32, the band after the "
        f"`{config['histogram']}` histogram treatment "
        "(calvingfronts.preprocess.normalize.normalize), "
        "invalid pixels 0",
        "- Output: `front_probability` float32 (N, 1, H, W), sigmoid inside the graph"
        + (
            "; `zone_probability` float32 (N, 3, H, W), softmax over rock, glacier, ocean"
            if config["zone_weight"] > 0
            else ""
        ),
        f"- Front label width: {config['front_width_px']:g} px; training pixel sizes "
        f"{config['augment'].get('pixel_size_range_m', [10, 80])} m (zoom augmentation)",
        "",
        "## Data",
        "",
        "| source | training images | held-out images | glaciers |",
        "| --- | --- | --- | --- |",
    ]
    for source, info in data.items():
        lines.append(
            f"| {source} | {info['train']} | {info['validation']} | {', '.join(info['glaciers'])} |"
        )
    lines += ["", "Licences and credit:", ""] + [f"- {c}" for c in credits] + [""]
    lines += ["## Held-out-glacier error", ""]
    lines += held_out_lines(config["validation_glaciers"], validation)
    lines += [
        "",
        "## Training",
        "",
        f"- Time: {minutes:.1f} min on {machine(training.get('device', 'cpu'))}",
        f"- Steps: {training.get('steps', '?')} (budget: {config['epochs']} epochs x "
        f"{config['steps_per_epoch']} steps or {config['max_minutes'] or 'unlimited'} min, "
        f"whichever ends first), batch {config['batch_size']}, crops {config['crop_size']} px, "
        f"AdamW lr {config['learning_rate']:g} (warm-up, cosine decay), seed {config['seed']}",
        _exported(config, training),
        f"- Loss: BCE (front pos_weight {config['pos_weight']:g}) + {config['dice_weight']:g} "
        "x Dice"
        + (
            f" + {config['zone_weight']:g} x zone cross-entropy (rock/glacier/ocean head, "
            "exported as `zone_probability`)"
            if config["zone_weight"] > 0
            else ""
        ),
        "- Augmentation: any rotation, flips, zoom to the pixel-size range, gamma/contrast/"
        "brightness, SAR-like speckle, blur, nodata stripes",
    ]
    earlier = training.get("init_from") or []
    if isinstance(earlier, dict):  # one earlier stage
        earlier = [earlier]
    onnx_start = [stage for stage in earlier if stage.get("onnx")]
    earlier = [stage for stage in earlier if not stage.get("onnx")]
    if onnx_start:
        start = onnx_start[0]
        lines.append(
            f"- Pretrained weights: network {start['member']} of the ONNX model "
            f"`{start['onnx']}` ({start['networks']} network(s), `{start['path']}`, its own "
            "card has its training), BatchNorm statistics frozen as its export folded them"
        )
    else:
        lines.append("- Pretrained weights: none (trained from scratch)")
    if earlier:
        total_steps = sum(e["steps"] for e in earlier) + training.get("steps", 0)
        total_minutes = sum(e["minutes"] for e in earlier) + minutes
        lines += [
            f"- Staged training: {len(earlier) + 1} stages, {total_steps} steps and "
            f"{total_minutes:.1f} min in all; each stage started from the weights of the one "
            "before. The earlier stages differed from the final one (configuration below) in:",
        ]
        for i, stage in enumerate(earlier, 1):
            changed = {
                k: v
                for k, v in (stage.get("config") or {}).items()
                if config.get(k) != v and k not in _NOT_COMPARED
            }
            lines.append(
                f"  - stage {i}: {stage['steps']} steps, {stage['minutes']} min, from "
                f"`{stage['path']}`; `{json.dumps(changed)}`"
            )
    if extra:
        lines += ["", extra.strip()]
    lines += ["", "## Configuration", "", "```json", json.dumps(config, indent=2), "```", ""]
    return "\n".join(lines)


def with_section(text: str, title: str, body: str, keep_place: bool = False) -> str:
    """``text`` (a card) with its ``## title`` section set to ``body``.

    A missing section goes before the configuration block. An existing one is replaced
    where it stands with ``keep_place`` (a card's fixed layout, e.g. the ensemble's), and
    otherwise moved before the configuration block (an evaluation added after training,
    which belongs after the sections the training wrote).
    """
    header = f"## {title}"
    section = f"{header}\n\n{body.strip()}\n\n"
    # The whole heading line: "## C" is not the start of "## Configuration".
    found = re.search(rf"^{re.escape(header)}$", text, flags=re.MULTILINE)
    if found:
        start = found.start()
        end = text.find("\n## ", start + len(header))
        rest = text[end + 1 :] if end >= 0 else ""
        if keep_place:
            return text[:start] + section + rest
        text = text[:start] + rest
    marker = "## Configuration"
    return text.replace(marker, section + marker) if marker in text else text + "\n" + section


def append_section(card: str | Path, title: str, body: str) -> None:
    """Add (or replace) a ``## title`` section before the configuration block of the card
    file ``card``, e.g. an evaluation run after training; written atomically."""
    from calvingfronts.raster_io import write_text

    card = Path(card)
    write_text(card, with_section(card.read_text(), title, body))
