"""Scenario simulation: the carbon (减污降碳), water (三水统筹) and control (精细化管控) scenarios.

Pure numpy/pandas here (specs, factors, responses, balances); Ray, MLflow and the lake are wired
in experiments/scenarios.py and jobs/gold/scenario_results.py."""
