"""Benchmark: how many gross errors the screening catches, and how many real fronts it
flags (calvingfronts.evaluation.gross_errors; README "Screening").

    .venv/bin/python benchmarks/gross_errors.py                      # traces and the demo
    .venv/bin/python benchmarks/gross_errors.py --seeds 0 1 --rates 0.1

1. The 414 real Jakobshavn traces (../shared/data/jakobshavn_termini): each kind of error
   (shift, other_season, wrong_line, partial) injected at each rate with each seed, run
   through the workflow's positions and screening with config/config.yaml's settings.
2. The demo's fronts (results/demo_fronts.gpkg after `snakemake --cores 2`, kept and
   screened together), with the same injections, and the demo's own targets against the
   synthetic truth (results/demo_synthetic_truth.gpkg): fronts within 200 m screened, the
   kept fronts' mean error, the Landsat-8 fronts within 200 m kept.

Prints markdown tables; ``--json`` writes the figures too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from calvingfronts.config import load_config_file  # noqa: E402
from calvingfronts.evaluation.evaluate_fronts import evaluate_fronts, read_fronts  # noqa: E402
from calvingfronts.evaluation.gross_errors import score_summary, screening_scores  # noqa: E402
from calvingfronts.evaluation.trace_series import read_traces  # noqa: E402
from calvingfronts.glaciers.config import glacier_config  # noqa: E402
from calvingfronts.timeseries.positions import front_positions  # noqa: E402
from calvingfronts.timeseries.screening import ScreeningSettings  # noqa: E402

TRACES = REPO.parent / "shared" / "data" / "jakobshavn_termini" / "jakobshavn_1990_2023_TP.shp"


def table(summary: pandas.DataFrame) -> str:
    lines = ["| kind | injected | caught | real fronts screened |", "| --- | --- | --- | --- |"]
    for row in summary.itertuples():
        lines.append(
            f"| {row.kind} | {row.injected} | {row.caught_share:.1%} | "
            f"{row.real_screened_share:.1%} |"
        )
    return "\n".join(lines)


def demo_targets(gpkg: Path, truth_path: Path, glacier, screening) -> dict:
    kept, screened = read_fronts(gpkg, "fronts"), read_fronts(gpkg, "screened")
    truth = read_fronts(truth_path)
    both = pandas.concat([kept.assign(_kept=True), screened.assign(_kept=False)])
    errors = {f["pred_scene_id"]: f["mean_m"] for f in evaluate_fronts(both, truth)["per_front"]}
    error = both.scene_id.map(errors)
    good = error <= 200.0
    landsat = both.sensor == "landsat8"
    return {
        "fronts": int(len(both)),
        "kept": int(both._kept.sum()),
        "within_200_m_screened": int((good & ~both._kept).sum()),
        "kept_mean_of_front_means_m": round(float(error[both._kept].mean()), 1),
        "kept_pooled_mean_m": evaluate_fronts(kept, truth)["mean_distance_m"],
        "landsat8_within_200_m_kept": f"{int((good & landsat & both._kept).sum())} of "
        f"{int((good & landsat).sum())}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.05, 0.1, 0.2])
    parser.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    parser.add_argument("--demo", default=str(REPO / "results" / "demo_fronts.gpkg"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    config = load_config_file(args.config)
    screening = ScreeningSettings.from_dict(config.get("screening"))
    figures = {"rates": args.rates, "seeds": args.seeds}

    jakobshavn = glacier_config(config, "jakobshavn", REPO)
    traces = read_traces(TRACES)
    traces["glacier"] = "jakobshavn"
    started = time.perf_counter()
    scores = screening_scores(
        traces, centreline=jakobshavn.centreline, fjord=jakobshavn.fjord, box=jakobshavn.box,
        screening=screening, rates=args.rates, seeds=args.seeds,
    )  # fmt: skip
    summary = score_summary(scores)
    seconds = time.perf_counter() - started
    real = front_positions(traces, jakobshavn.centreline, jakobshavn.box, screening)
    clean = int((real.status == "screened").sum())
    print(f"## Jakobshavn traces ({len(traces)}; {seconds:.0f} s)\n")
    print(f"Without injected errors: {clean} of {len(traces)} traces screened.\n")
    print(table(summary) + "\n")
    figures["traces"] = {
        "summary": summary.to_dict("records"),
        "clean_screened": clean,
        "by_rate": scores.groupby(["kind", "rate"])[["injected", "caught", "real_screened"]]
        .sum()
        .reset_index()
        .to_dict("records"),
    }

    demo_path = Path(args.demo)
    if demo_path.is_file():
        demo = glacier_config(config, "demo", REPO)
        fronts = pandas.concat(
            [read_fronts(demo_path, "fronts"), read_fronts(demo_path, "screened")],
            ignore_index=True,
        ).sort_values("acquired", ignore_index=True)
        scores = screening_scores(
            fronts, centreline=demo.centreline, fjord=demo.fjord, box=demo.box,
            screening=screening, rates=args.rates, seeds=args.seeds,
        )  # fmt: skip
        summary = score_summary(scores)
        targets = demo_targets(
            demo_path, demo_path.with_name("demo_synthetic_truth.gpkg"), demo, screening
        )
        print(f"## The demo ({len(fronts)} fronts)\n")
        print("Its own fronts: " + ", ".join(f"{k} {v}" for k, v in targets.items()) + "\n")
        print(table(summary))
        figures["demo"] = {"summary": summary.to_dict("records"), "targets": targets}
    else:
        print(f"(no {demo_path}: run the demo first for its rows)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
