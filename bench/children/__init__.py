"""Scripts the benchmarks run as separate processes (each also runs as ``python <file>``)."""
