"""Theory: laws of random networks at initialisation (signal propagation, random matrices,
Jacobian spectra) and of their training (lazy vs rich; recurrent networks against FC and CNN
kernels), checked against finite networks."""
