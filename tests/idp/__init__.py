"""The local OpenID provider (``provider.mjs``) and the Python helpers that drive it."""
