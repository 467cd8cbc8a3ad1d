"""Sign-in flows as drivers: each runs a pure protocol state (``nbauth.protocol``) against the
provider, with time, waits and cancellation passed in."""
