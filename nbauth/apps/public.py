"""``PublicClientApplication``: MSAL's API for apps that hold no secret (notebooks, scripts).

Sign-in by device code (RFC 8628), by browser with PKCE and a loopback redirect (RFC 8252), or
by username and password; then ``acquire_token_silent`` from ``ClientApplication``.

A device flow is cancelled from any thread with :func:`cancel_device_flow` (MSAL's way, setting
``flow["expires_at"] = 0``, also works, noticed within a second). The flow dicts are MSAL's, at the
edge: inside, the flow is a ``DeviceFlow`` value run by ``nbauth.flows.device``.
"""
from __future__ import annotations

import logging
import secrets
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional

from ..clock import Wait, system_wait
from ..exceptions import ConfigurationError
from ..protocol import scopes as scope_rules
from ..protocol.authcode import code_from_redirect, new_authorization_request
from ..protocol.device import DeviceFlow, from_msal, msal_view
from ..protocol.oauth2 import authorization_code_grant
from ..redact import RedactedDict
from ..tokens.anchor import by_client_info
from .auth_code import AuthCodeFlows
from .base import errors_as_results
from .keywords import check_keywords, extra_fields

logger = logging.getLogger("nbauth")

_PKCE_OPTIONS = frozenset({"code_challenge", "code_challenge_method", "code_verifier"})
_BROKER_OPTIONS = ("enable_broker_on_windows", "enable_broker_on_mac", "enable_broker_on_linux",
                   "enable_broker_on_wsl")

class DeviceFlowDict(RedactedDict):
    """MSAL's device flow dict as ``initiate_device_flow`` returns it, with the event that
    :func:`cancel_device_flow` sets (a copy gets a fresh one)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.cancelled = threading.Event()

    def __reduce__(self) -> Any:
        return type(self), (dict(self),)


def cancel_device_flow(flow: Dict[str, Any]) -> None:
    """Stop ``acquire_token_by_device_flow(flow)`` promptly, from any thread.

    The poller returns an ``authorization_pending`` error result saying it was cancelled. A flow
    dict that was copied (e.g. through JSON) is noticed within a second.
    """
    flow["expires_at"] = 0
    event = getattr(flow, "cancelled", None)
    if isinstance(event, threading.Event):
        event.set()


class PublicClientApplication(AuthCodeFlows):
    """MSAL's ``PublicClientApplication`` against Entra ID or any OpenID provider."""

    def __init__(self, client_id: str, client_credential: None = None, *, wait: Wait = system_wait,
                 **kwargs: Any):
        """MSAL's arguments; nbauth adds ``wait`` (how device-code polling waits), as ``clock``."""
        if client_credential is not None:
            raise ConfigurationError("a public client has no client_credential; "
                                     "use ConfidentialClientApplication for one that does")
        check_keywords("PublicClientApplication", {name: kwargs.pop(name) for name in _BROKER_OPTIONS if name in kwargs})
        super().__init__(client_id, wait=wait, **kwargs)

    # ---- device code ------------------------------------------------------------------------
    @errors_as_results
    def initiate_device_flow(self, scopes: Optional[List[str]] = None, *, claims_challenge: Optional[str] = None,
                             data: Optional[Mapping[str, str]] = None, **kwargs: Any) -> RedactedDict:
        """Start a device-code sign-in: the flow dict has ``user_code``, ``verification_uri``,
        ``message`` (show it to the person), ``expires_at`` and more, as MSAL's does. ``data=``
        adds body fields to the device authorization request."""
        check_keywords("initiate_device_flow", kwargs)
        return DeviceFlowDict(msal_view(self.service.start_device_flow(scopes or [], claims_challenge,
                                                                       extra_fields(data))))

    @errors_as_results
    def acquire_token_by_device_flow(self, flow: Dict[str, Any], claims_challenge: Optional[str] = None, *,
                                     exit_condition: Optional[Callable[[dict], bool]] = None,
                                     data: Optional[Mapping[str, str]] = None, **kwargs: Any) -> RedactedDict:
        """Poll until the person signs in, refuses, the code expires, or the flow is cancelled.

        ``flow`` (from ``initiate_device_flow``, or MSAL's, also after a JSON round trip) is
        updated as MSAL does (``interval`` after slow_down, ``latest_attempt_at``).
        ``exit_condition(flow)``, checked at least once a second between polls, ends the wait
        early with an ``authorization_pending`` result (``lambda flow: True`` polls once
        without blocking). ``data=`` adds body fields to each poll (and keys the cached access
        token), as in MSAL.
        """
        check_keywords("acquire_token_by_device_flow", kwargs)
        device_flow = from_msal(flow, self.service.clock(), self.service.requested_scopes([]), claims_challenge)

        def stop() -> bool:  # MSAL's way of cancelling, and its exit condition
            return float(flow.get("expires_at") or 0) <= 0 or (exit_condition is not None and bool(exit_condition(flow)))

        def on_poll(polled: DeviceFlow) -> None:
            flow["interval"], flow["latest_attempt_at"] = polled.interval, polled.polled_at

        cancelled = getattr(flow, "cancelled", None)
        return self.service.redeem_device_flow(device_flow, cancelled if isinstance(cancelled, threading.Event)
                                               else threading.Event(), stop=stop, on_poll=on_poll,
                                               data=extra_fields(data))

    # ---- browser (authorization code + PKCE, loopback redirect) ------------------------------
    @errors_as_results
    def acquire_token_interactive(
        self, scopes: List[str], prompt: Optional[str] = None, login_hint: Optional[str] = None,
        domain_hint: Optional[str] = None, claims_challenge: Optional[str] = None, timeout: Optional[float] = None,
        port: Optional[int] = None, extra_scopes_to_consent: Optional[List[str]] = None,
        max_age: Optional[int] = None, parent_window_handle: Any = None,
        on_before_launching_ui: Optional[Callable[..., Any]] = None, auth_scheme: Any = None, *,
        success_template: Optional[str] = None, error_template: Optional[str] = None,
        redirect_uri: Optional[str] = None, open_browser: Optional[Callable[[str], Any]] = None,
        data: Optional[Mapping[str, str]] = None, **kwargs: Any,
    ) -> RedactedDict:
        """Sign in through a browser: open the provider's page, wait for its redirect to a
        listener on loopback (127.0.0.1, and ::1 for localhost), then redeem the code (PKCE S256;
        ``state`` and ``nonce`` checked).

        ``timeout`` (seconds, None: no limit) bounds the wait. The link is also printed, for a
        browser elsewhere. nbauth additions: ``redirect_uri`` (a loopback URI registered for the
        app; default MSAL's ``http://localhost``) and ``open_browser`` (default ``webbrowser.open``).
        """
        if auth_scheme is not None:
            raise ConfigurationError("nbauth does not support auth_scheme (proof-of-possession tokens)")
        if _PKCE_OPTIONS & set(kwargs):
            raise ConfigurationError("nbauth makes a fresh PKCE pair (S256) for each sign-in; do not pass "
                                     + ", ".join(sorted(_PKCE_OPTIONS & set(kwargs))))
        check_keywords("acquire_token_interactive", kwargs)
        requested = self.service.requested_scopes(scopes)
        endpoint, metadata = self._authorization_endpoint(client_info=True), self.service.metadata()
        from ..flows.loopback import LoopbackListener  # http.server loads only for interactive sign-in

        state = secrets.token_urlsafe(24)
        with LoopbackListener(state, redirect_uri=redirect_uri, port=port, success_template=success_template,
                              error_template=error_template) as listener:
            request = new_authorization_request(
                endpoint, self.client_id, listener.redirect_uri,
                requested + scope_rules.normalize(extra_scopes_to_consent or [], "extra_scopes_to_consent"),
                prompt=prompt, login_hint=login_hint, domain_hint=domain_hint, max_age=max_age,
                claims=self.service.claims(claims_challenge), state=state)
            _launch_browser(request.url, open_browser, on_before_launching_ui)
            params = listener.wait(timeout)
        code = code_from_redirect(params, request, issuer=metadata.issuer,
                                  issuer_required=metadata.authorization_response_iss_supported)
        grant = authorization_code_grant(code, request.redirect_uri, request.pkce.verifier, requested)
        return self._redeem(grant, requested, data, nonce=request.nonce, max_age=request.max_age,
                            claims_challenge=claims_challenge, headers=by_client_info(params))


def _launch_browser(url: str, open_browser: Optional[Callable[[str], Any]],
                    on_before_launching_ui: Optional[Callable[..., Any]]) -> None:
    """Open the sign-in page (``open_browser``, default ``webbrowser.open``) and print its link,
    for a person whose browser is elsewhere."""
    import webbrowser  # only interactive sign-in needs it

    from ..ui.text import printable

    if on_before_launching_ui is not None:
        on_before_launching_ui(ui="browser")
    print(f"To sign in, open this link in a browser (one may have opened already):\n{printable(url)}", flush=True)
    try:
        (open_browser or webbrowser.open)(url)
    except webbrowser.Error as exc:
        logger.info("could not open a browser (%s); the link is printed above", exc)
