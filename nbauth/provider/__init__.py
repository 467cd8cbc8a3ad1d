"""Every call to the identity provider: authorities and discovery, keys, the token and revocation endpoints."""
