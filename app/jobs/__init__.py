"""The one job service: long computations submitted to Dask, with progress, cancel and caches."""
