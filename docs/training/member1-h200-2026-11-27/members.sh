#!/usr/bin/env bash
# Train ensemble member 1 for each glacier named (jakobshavn, ..., all) side by side; collect into $OUT.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
nvidia-smi -L
LIMIT=${LIMIT:-540}
time python3 .gpu/run_members.py render || exit 1
for g in "$@"; do
  timeout "$LIMIT" python3 .gpu/run_members.py "$g" > "$OUT/$g.log" 2>&1 &
done
wait
ls -laR training_runs | head -60
for g in "$@"; do tail -5 "$OUT/$g.log"; done
tar czf "$OUT/members.tar.gz" --exclude='*.pt' --exclude='*cache*' training_runs
# A run cut off by the limit keeps its checkpoint, to resume on the next call.
find training_runs -name last.pt | while read -r pt; do
  ls "$(dirname "$pt")"/*.onnx >/dev/null 2>&1 && continue
  name=$(echo "$pt" | tr '/' '_')
  split -b 15M "$pt" "$OUT/$name.part-"
done
ls -la "$OUT"
