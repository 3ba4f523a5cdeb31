#!/usr/bin/env bash
# Here, before the device call: copy what the GPU machine lacks into ignored folders that
# the call carries (.gpu: the scripts and the FrontLearning images; .whl: the wheels that
# training imports and the machine lacks), and move the shipped ONNX files (47 MB, which
# training does not read) out of the working tree so it fits the call's 64 MiB; `git
# checkout models` puts them back after the call.
set -eu
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo /.gpu/ >> .git/info/exclude
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
mkdir -p .gpu .whl
cp docs/training/zones-h200/run_zones.py docs/training/zones-h200/zone_folds.sh .gpu/
rm -rf .gpu/frontlearning && mkdir -p .gpu/frontlearning
cp -r ../shared/data/frontlearning/train .gpu/frontlearning/
for package in rasterio==1.4.3 shapely affine click-plugins cligj; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl "$package"
done
rm -f models/*.onnx models/folds/*.onnx
du -sh .gpu .whl
git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1
