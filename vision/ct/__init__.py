"""CT simulation and reconstruction: phantoms, parallel-beam sinograms, FBP, CT numbers,
dual-energy Zeff, error metrics and reviewer projections (MIP, slices)."""
