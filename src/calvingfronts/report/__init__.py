"""What a run shows: plots, run statistics, the report's outputs and the end-of-run summary."""
