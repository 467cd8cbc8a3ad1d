"""Play the browser against the local provider's own HTML pages, over plain ``requests``.

oidc-provider's development interactions render a login form and a consent form; the device
flow adds a user-code page and a confirmation page. These helpers fill them in the way a person
would, without a real browser or JavaScript.

``verify`` is passed on every request (a CA file path, or True for the environment's bundle):
requests lets ``REQUESTS_CA_BUNDLE`` override ``Session.verify``, so setting it on the session
is not enough.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests

from idp.server import USERS

_MAX_STEPS = 12


class BrowserError(AssertionError):
    """The provider showed something a person following the script would not expect."""


@dataclass
class _Form:
    action: str
    method: str
    id: str | None
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self._current: _Form | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._current = _Form(attrs.get("action", ""), attrs.get("method", "get").lower(),
                                  attrs.get("id"))
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and attrs.get("name"):
            if attrs.get("type", "text") not in ("submit", "button", "checkbox", "radio"):
                self._current.fields[attrs["name"]] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _forms(page: str) -> list[_Form]:
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _snippet(response: requests.Response) -> str:
    return f"{response.status_code} {response.url}: {response.text[:400]!r}"


class _Browser:
    def __init__(self, session: requests.Session | None, verify) -> None:
        self.session = session or requests.Session()
        self.verify = verify

    def get(self, url: str) -> requests.Response:
        return self.session.get(url, allow_redirects=False, verify=self.verify, timeout=10)

    def submit(self, base_url: str, form: _Form, **overrides: str) -> requests.Response:
        return self.session.post(urljoin(base_url, form.action), data={**form.fields, **overrides},
                                 allow_redirects=False, verify=self.verify, timeout=10)

    def interact(self, response: requests.Response, user: str, password: str):
        """Follow the provider's redirects and forms; stop at a redirect off the provider.

        Returns ``("redirect", url)`` for a redirect to another origin (the client's
        redirect_uri), or ``("page", response)`` for a provider page with no login/consent form.
        """
        provider = _origin(response.url)
        for _ in range(_MAX_STEPS):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if _origin(location) != provider:
                    return "redirect", location
                response = self.get(location)
                continue
            if response.status_code >= 400:
                raise BrowserError(f"provider error page: {_snippet(response)}")
            prompts = {f.fields.get("prompt"): f for f in _forms(response.text)}
            if "login" in prompts:
                response = self.submit(response.url, prompts["login"], login=user, password=password)
            elif "consent" in prompts:
                response = self.submit(response.url, prompts["consent"])
            else:
                return "page", response
        raise BrowserError(f"no end after {_MAX_STEPS} steps: {_snippet(response)}")


def login(
    auth_url: str,
    user: str = "alice",
    password: str | None = None,
    *,
    session: requests.Session | None = None,
    verify: bool | str = True,
) -> str:
    """Sign ``user`` in through the authorization URL; return the redirect URL to the client.

    The client's redirect_uri is not fetched. ``password`` defaults to the user's right one.
    Errors the provider redirects to the client with (``?error=...``) come back as that URL.
    """
    browser = _Browser(session, verify)
    password = USERS[user] if password is None else password
    kind, result = browser.interact(browser.get(auth_url), user, password)
    if kind != "redirect":
        raise BrowserError(f"sign-in ended on a provider page: {_snippet(result)}")
    return result


def _device_confirmation(browser: _Browser, verification_uri_complete: str) -> requests.Response:
    """Open the verification link and get to the 'Confirm Device' page."""
    page = browser.get(verification_uri_complete)
    # The page auto-submits (with JavaScript) a form carrying the user code; submit it ourselves.
    code_form = next((f for f in _forms(page.text) if "user_code" in f.fields), None)
    if page.status_code != 200 or code_form is None:
        raise BrowserError(f"no user-code form: {_snippet(page)}")
    confirm = browser.submit(page.url, code_form)
    if confirm.status_code != 200 or "confirm" not in _fields_of_all(confirm.text):
        raise BrowserError(f"no device confirmation form (wrong or used code?): {_snippet(confirm)}")
    return confirm


def _fields_of_all(page: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for form in _forms(page):
        fields.update(form.fields)
    return fields


def _confirm_form(page: str) -> _Form:
    return next(f for f in _forms(page) if "confirm" in f.fields)


def approve_device_via_html(
    verification_uri_complete: str,
    user: str = "alice",
    password: str | None = None,
    *,
    session: requests.Session | None = None,
    verify: bool | str = True,
) -> str:
    """Approve a device code the way a person does in a browser; return the final page's HTML."""
    browser = _Browser(session, verify)
    password = USERS[user] if password is None else password
    confirm = _device_confirmation(browser, verification_uri_complete)
    answer = browser.submit(confirm.url, _confirm_form(confirm.text))
    kind, result = browser.interact(answer, user, password)
    if kind != "page" or "Sign-in Success" not in result.text:
        raise BrowserError(f"device sign-in did not succeed: {result if kind == 'redirect' else _snippet(result)}")
    return result.text


def deny_device_via_html(
    verification_uri_complete: str,
    *,
    session: requests.Session | None = None,
    verify: bool | str = True,
) -> str:
    """Press "Abort" on the device confirmation page; return the resulting page's HTML."""
    browser = _Browser(session, verify)
    confirm = _device_confirmation(browser, verification_uri_complete)
    answer = browser.submit(confirm.url, _confirm_form(confirm.text), abort="yes")
    if answer.status_code >= 500:
        raise BrowserError(f"abort failed: {_snippet(answer)}")
    return answer.text
