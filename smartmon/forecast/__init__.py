"""Forecast evaluation and baselines shared by the experiments and the batch-inference job."""
