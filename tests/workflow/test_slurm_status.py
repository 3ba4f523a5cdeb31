"""When a run under the SLURM executor must stop before its first job (slurm_status_problem):
wherever the plugin would take a cancelled job for a running one, or lose a finished one."""

from __future__ import annotations

from calvingfronts.workflow.slurm_status import slurm_status_problem


def test_squeue_with_the_default_min_job_age_is_fine():
    # SLURM's default MinJobAge (300 s) and the plugin's default first check (40 s).
    assert slurm_status_problem("squeue", 40, 300, sacct_available=True) is None
    assert slurm_status_problem("squeue", 1, 300, sacct_available=True) is None


def test_sacct_is_refused_with_the_setting_that_fixes_it():
    problem = slurm_status_problem("sacct", 40, 300, sacct_available=True)
    assert problem is not None
    assert "'CANCELLED by <uid>'" in problem
    assert "slurm-status-command: squeue" in problem


def test_squeue_that_the_plugin_would_replace_by_sacct_is_refused():
    # The plugin switches to sacct where MinJobAge < 3 x the first check's delay.
    problem = slurm_status_problem("squeue", 40, 100, sacct_available=True)
    assert problem is not None
    assert "MinJobAge is 100 s" in problem and "120 s" in problem
    unknown = slurm_status_problem("squeue", 40, None, sacct_available=True)
    assert unknown is not None and "MinJobAge is unknown" in unknown


def test_squeue_that_forgets_finished_jobs_before_the_next_check_is_refused():
    # 3 x 10 s is under MinJobAge, so the plugin keeps squeue, but the plugin may wait
    # up to 180 s between two checks.
    problem = slurm_status_problem("squeue", 10, 150, sacct_available=True)
    assert problem is not None and "MinJobAge is 150 s" in problem
    assert slurm_status_problem("squeue", 40, 100, sacct_available=False) is not None
    assert slurm_status_problem("squeue", 40, 181, sacct_available=False) is None
