"""Width sweeps: empirical NTK spectra and drift, unit-circle curves, distributions."""
