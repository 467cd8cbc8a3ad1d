"""The ``nbauth`` command: sign in, print a token, list and forget accounts."""
