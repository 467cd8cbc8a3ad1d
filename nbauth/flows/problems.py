"""Why a sign-in could not start, as one plain sentence that names the client id or the authority and
says what to check (pure). The widget shows it; ``token()`` raises the error with it as its one line."""
from __future__ import annotations

from ..exceptions import ConfigurationError, DiscoveryError, OAuthError, ProtocolError, TransportError

#: The provider's answers that mean it does not accept this client (for this flow).
CLIENT_REFUSED = frozenset({"invalid_client", "unauthorized_client", "unsupported_grant_type"})
#: How much of a provider's error description goes into the sentence (Entra's run to a page).
DESCRIPTION_CHARS = 160
PUBLIC_CLIENT = ("check it, and that the application may use the device code flow as a public client "
                 "(Microsoft Entra: \"Allow public client flows\")")


def setup_problem(error: BaseException, client_id: str, authority: str) -> str:
    """One sentence, without a final period: what stopped the sign-in from starting and what to
    check, then what was said (last, so a length cut takes only that)."""
    if isinstance(error, DiscoveryError):
        return (f"could not use the provider at {authority}: check the authority URL, and that this machine "
                f"can reach it (network, proxy, VPN); {error.reason}")
    if isinstance(error, TransportError):
        return f"could not reach the provider at {authority}: check the network (proxy, VPN) and try again; {error}"
    if isinstance(error, OAuthError):
        said = f"it said {error.error}: {_first_line(error.description)}" if error.description else f"it said {error.error}"
        if error.error in CLIENT_REFUSED:
            return f"the provider at {authority} refused the client id {client_id}: {PUBLIC_CLIENT}; {said}"
        if error.error == "invalid_scope":
            return f"the provider at {authority} refused the scopes: check the scopes asked for; {said}"
        return f"the provider at {authority} refused to start a sign-in for the client id {client_id}; {said}"
    if isinstance(error, ProtocolError):
        return f"the provider at {authority} answered something that is not OAuth: check the authority URL; {error}"
    if isinstance(error, ConfigurationError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _first_line(text: str) -> str:
    line = (text.strip().splitlines() or [""])[0].strip()
    return line if len(line) <= DESCRIPTION_CHARS else line[:DESCRIPTION_CHARS - 1] + "\u2026"
