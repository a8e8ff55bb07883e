"""Closed forms of training: GD-ensemble mean/cov at any t, posterior, losses, flows."""
