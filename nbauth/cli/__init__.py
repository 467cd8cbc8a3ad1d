"""The ``nbauth`` command: sign in, print a token, list and forget accounts (``command``), with its
saved settings (``settings``) and the cache's status (``cache_status``)."""
from .command import main

__all__ = ["main"]
