"""Tokens where data-science code needs them: ``requests``, Azure SDKs, the shell.

* ``nbauth.integrations.requests_auth``: :class:`BearerAuth` and :func:`authorized_session`,
  bearer tokens for ``requests`` with one retry on an expired-token or claims-challenge 401;
* ``nbauth.integrations.azure``: :class:`NbauthCredential`, a credential Azure SDK clients take;
* ``nbauth.integrations.source``: :func:`token_source`, the seam both take tokens through;
* ``nbauth.cli.command`` (with ``cli_settings`` and ``cache_status`` here): the ``nbauth`` command.

Importing this package imports nothing else (``requests`` comes with ``requests_auth``).
"""
