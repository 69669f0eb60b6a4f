"""Positive matrix factorization (EPA PMF / ESAT conventions): input preparation, the solver and
bootstrap uncertainty. Pure numpy; Ray runs the random starts and bootstrap replicates."""
