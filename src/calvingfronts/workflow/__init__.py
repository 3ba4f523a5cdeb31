"""The workflow's glue: the per-scene stage functions, batches and running one, SLURM status."""
