#!/usr/bin/env bash
# Install the workflow into ./.venv: the calvingfronts package, Snakemake with its SLURM
# executor plugin (profiles/slurm; a venv on a file system the nodes share serves them too),
# ONNX Runtime, and (unless --no-train) PyTorch for the optional training rule and the tests.
#   ./install.sh              everything (what the tests need)
#   ./install.sh --no-train   inference only: no PyTorch
# ONNX Runtime with CUDA (onnxruntime-gpu) replaces the CPU build where an NVIDIA driver is found.
set -euo pipefail
cd "$(dirname "$0")"

python=${PYTHON:-python3}
extras="workflow,dev,train"
if [[ "${1:-}" == "--no-train" ]]; then
    extras="workflow,dev"
fi

"$python" - <<'PY'
import sys
if sys.version_info < (3, 10):
    sys.exit(f"calvingfronts needs Python >= 3.10, this is {sys.version.split()[0]}")
PY

[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[${extras}]"

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "NVIDIA GPU found: installing onnxruntime-gpu"
    .venv/bin/python -m pip uninstall --quiet -y onnxruntime
    .venv/bin/python -m pip install --quiet -e ".[gpu]"
fi

.venv/bin/python -c "import calvingfronts, onnxruntime; print('calvingfronts', calvingfronts.__version__, '| onnxruntime providers:', ', '.join(onnxruntime.get_available_providers()))"
echo "Installed. Run the offline demo with: .venv/bin/snakemake --cores 8 results/demo_fronts.gpkg"
