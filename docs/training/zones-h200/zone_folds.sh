#!/usr/bin/env bash
# On the lent GPU: network 0 of the zone-and-front recipe for each glacier named
# (jakobshavn kangerlussuaq northwest all) side by side; weights and logs into $OUT.
set -u
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
nvidia-smi -L 2>/dev/null || echo "no GPU: ${DEVICE:-auto}"
LIMIT=${LIMIT:-540}
time python3 .gpu/run_zones.py render || exit 1
for g in "$@"; do
  timeout "$LIMIT" python3 .gpu/run_zones.py "$g" > "$OUT/$g.log" 2>&1 &
done
wait
for g in "$@"; do tail -3 "$OUT/$g.log"; done
# What comes back: each run's exported weights (final.pt, about 5 MB, holds its config),
# metrics and validation; $OUT keeps to 8 files, so they are packed per run.
for run in training_runs/*-zones*/folds/* training_runs/*-zones; do
  [ -f "$run/final.pt" ] || continue
  name=$(basename "$run")
  tar czf "$OUT/$name.tar.gz" -C "$run" final.pt metrics.json validation.json config.json 2>/dev/null
done
ls -la "$OUT"
