"""Finite networks trained with real GD, empirical NTK helpers, Monte Carlo kernels."""
