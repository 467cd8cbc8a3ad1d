"""Test helpers that are not tests, shared by every test folder: fake HTTP and a fake provider,
one fake clock, fuzz strategies, cache events, child processes, a kernel, a JupyterLab server.

``tests/`` is on ``sys.path`` (the top conftest sits there), so these import as ``support.x``;
test modules import from here, never from one another.
"""
