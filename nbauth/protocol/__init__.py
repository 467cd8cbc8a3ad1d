"""Pure OAuth 2.0 / OpenID Connect logic: no sockets, threads, sleeps or clock reads.

Each module takes plain values (``now`` included) and returns plain values or raises one of
``nbauth.exceptions``, so the I/O layer and the applications can be tested apart from it.
"""
