"""Fixtures of the cache tests."""
import pytest


@pytest.fixture
def cache_path(path):
    """The cache file's path in an owner-only folder that exists (for tests that write the file first)."""
    path.parent.mkdir(mode=0o700)
    return path
