"""Theory: laws of random networks at initialisation, checked against finite networks."""
