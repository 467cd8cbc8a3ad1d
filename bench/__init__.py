"""Benchmarks of nbauth against MSAL Python, side by side in one run (``make bench``)."""
