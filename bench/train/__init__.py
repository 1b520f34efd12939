"""Training one point: the pipeline, the loop, the record, diagnostics and cost."""
