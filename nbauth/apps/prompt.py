"""MSAL's ``Prompt``: the values of OpenID Connect's ``prompt`` parameter."""


class Prompt:
    """Constants for ``prompt=`` (OpenID Connect Core 3.1.2.1; ``create``: Initiating User Registration)."""

    NONE = "none"
    LOGIN = "login"
    CONSENT = "consent"
    SELECT_ACCOUNT = "select_account"
    CREATE = "create"
