"""Whether the SLURM executor plugin will notice a cancelled job (profiles/slurm).

snakemake-executor-plugin-slurm (2.8.0) reads each job's state from `sacct` or `squeue`. For
a job stopped with `scancel`, sacct says ``CANCELLED by <uid>``, a state the plugin does not
know: it takes the job for one still running and the run waits for it forever. squeue says
``CANCELLED``, which the plugin reports as a failed job (retried under `retries`). So the
cluster profile asks for squeue, and a run stops before its first job where the plugin
would use sacct all the same, or where squeue would lose finished jobs.
"""

from __future__ import annotations

# The longest wait of the plugin between two status checks (check_active_jobs: 180 s). A
# finished job must still be listed by squeue at the next check, i.e. for MinJobAge.
PLUGIN_MAX_SECONDS_BETWEEN_CHECKS = 180


def slurm_status_problem(
    status_command: str | None,
    init_seconds_before_status_checks: int,
    min_job_age: int | None,
    sacct_available: bool,
) -> str | None:
    """Why jobs' states would be misread, as a message naming the setting; None if they
    would not be.

    Mirrors the plugin's choice of the command: it takes sacct where asked to, and where
    asked for squeue but MinJobAge is unknown or under three times the first check's delay
    while sacct exists.
    """
    fix = (
        "set `slurm-status-command: squeue` (as profiles/slurm does) on a cluster whose "
        f"MinJobAge (scontrol show config) is over {PLUGIN_MAX_SECONDS_BETWEEN_CHECKS} s"
    )
    if status_command != "squeue":
        return (
            f"the SLURM executor would read job states with {status_command!r}, which reports "
            "a cancelled job as 'CANCELLED by <uid>': the plugin takes that for a running job "
            f"and the run would never end. Please {fix}."
        )
    threshold = 3 * init_seconds_before_status_checks
    if sacct_available and (min_job_age is None or min_job_age < threshold):
        return (
            f"the SLURM executor would use sacct instead of squeue, because MinJobAge is "
            f"{'unknown' if min_job_age is None else f'{min_job_age} s'}, under 3 x "
            f"slurm-init-seconds-before-status-checks ({threshold} s); sacct reports a "
            "cancelled job as 'CANCELLED by <uid>', which the plugin takes for a running job. "
            f"Please {fix}, or lower slurm-init-seconds-before-status-checks."
        )
    if min_job_age is not None and min_job_age <= PLUGIN_MAX_SECONDS_BETWEEN_CHECKS:
        return (
            f"MinJobAge is {min_job_age} s: squeue forgets a finished job before the SLURM "
            f"executor's next status check (up to {PLUGIN_MAX_SECONDS_BETWEEN_CHECKS} s "
            "later), and the run would wait for it forever. Please ask for a MinJobAge over "
            f"{PLUGIN_MAX_SECONDS_BETWEEN_CHECKS} s."
        )
    return None
