"""Where the shipped default model is, wherever a command is run.

The model lives in the checkout's ``models/`` folder, which the workflow names relative to
the checkout. A command-line tool may be run from anywhere, so the default is looked for in
the current folder (a checkout or a copy of the workflow) and then in the checkout this
package is installed from (``pip install -e``, as ``install.sh`` does).
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL = Path("models/frontlearning-all-drn-deeplabv3plus.onnx")

# src/calvingfronts/inference/default_model.py -> the checkout of an editable install.
CHECKOUT = Path(__file__).resolve().parents[3]


class ModelNotFound(Exception):
    """No model file where one was asked for or looked for; the message says where."""


def default_model_candidates(cwd: Path) -> list[Path]:
    """The places the default model is looked for, in order, without repeats."""
    candidates = [cwd / DEFAULT_MODEL, CHECKOUT / DEFAULT_MODEL]
    return list(dict.fromkeys(path.resolve() for path in candidates))


def find_model(given: Path | None, cwd: Path | None = None) -> Path:
    """``given`` if it is a file, else the first default model found from ``cwd``."""
    if given is not None:
        if not given.is_file():
            raise ModelNotFound(f"model file {given} does not exist")
        return given
    candidates = default_model_candidates(cwd or Path.cwd())
    for path in candidates:
        if path.is_file():
            return path
    raise ModelNotFound(
        f"the default model {DEFAULT_MODEL.name} is not in "
        f"{' or '.join(str(path.parent) for path in candidates)}: pass --model PATH"
    )
