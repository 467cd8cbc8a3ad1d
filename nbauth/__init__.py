"""nbauth: OAuth 2.0 / OpenID Connect tokens for notebooks and scripts."""
from ._version import __version__

__all__ = ["__version__"]
