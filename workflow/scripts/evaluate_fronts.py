"""Snakemake adapter: compare a glacier's fronts with reference fronts (evaluate-fronts)."""

import contextlib
import io
from pathlib import Path

from calvingfronts import logs
from calvingfronts.evaluation.evaluate_fronts import evaluate_fronts_main
from calvingfronts.raster_io import atomic_path

logs.configure(snakemake.log[0])
report = io.StringIO()
with contextlib.redirect_stdout(report):
    status = evaluate_fronts_main(
        ["--pred", snakemake.input.fronts, "--truth", snakemake.input.truth]
    )
if status != 0:
    # The command has said why on stderr (the job's log); an empty report must not stand in
    # for an evaluation.
    raise SystemExit(status)
with atomic_path(snakemake.output.report) as tmp:
    Path(tmp).write_text(report.getvalue())
