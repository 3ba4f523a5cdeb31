"""profiles/slurm asks for what the rules need: no thread count that Snakemake would cap."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_no_rule_asks_for_more_threads_than_the_profile_lets_a_job_have():
    # Snakemake caps each job's threads at `cores`, under a cluster executor too, and the
    # capped figure is what reaches --cpus-per-task: a smaller `cores` would silently
    # shrink the training job.
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    threads = profile["set-threads"]
    assert threads, "profiles/slurm sets no threads"
    assert profile["cores"] >= max(threads.values()), (profile["cores"], threads)
