"""The ``nbauth`` command: sign in once in a terminal, then print tokens for scripts and curl.

    nbauth login --client-id ID --oidc-authority https://idp.example --scopes api:read
    nbauth token --header | curl -H @- https://api.example/data

It uses the per-user token cache notebooks use, and the same presentation rules: a device code
on the terminal (stderr) when a person is there; in CI or with no terminal, a message and exit
status 3 at once, never a wait. Only the token goes to stdout (``--header``: as the header line
``curl -H @-`` reads, so the token never is a process argument ``ps`` shows). Every other string
from the provider or the cache is printed through ``printable``, so none carries an escape
sequence to the terminal. Modules are imported by the command that needs them, so ``nbauth
token`` on a cache hit loads little.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence

from .._version import __version__
from ..exceptions import ConfigurationError, FlowError, InteractionUnavailable, NbauthError, OAuthError, ProtocolError
from ..ui.text import printable
from . import settings as cli_settings
from .settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_PERSON, EXIT_NOT_SIGNED_IN, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

EPILOG = """\
sign-in settings: each comes from its option, else its environment variable, else what the
last `nbauth login` saved beside the cache; so after one login, `nbauth token` needs no options.

exit status:
  0    success
  1    the provider or the network failed (the message says which)
  2    bad usage or configuration (e.g. no client id)
  3    sign-in is needed and no person can be reached here (CI is set, or stderr is not a
       terminal): run `nbauth login` once where one can (NBAUTH_UI=terminal forces the prompt)
  4    the sign-in did not complete (denied, expired or cancelled)
  130  interrupted (Ctrl-C)
"""
#: Provider errors that end a device-code sign-in the person started.
_SIGN_IN_ENDED = frozenset({"access_denied", "authorization_declined", "expired_token", "bad_verification_code"})
#: What an HTTP header line can carry (RFC 6750's b64token is a subset): no space, control or newline.
_HEADER_VALUE = re.compile(r"[\x21-\x7e]+")


# ---- commands --------------------------------------------------------------------------------
def cmd_login(args: argparse.Namespace) -> int:
    """Sign in (silently from the cache if possible, else by device code) and save the settings."""
    from ..ui import Status

    settings, path = _settings(args)
    handle = _sign_in(settings, path)
    from_cache = handle.status is Status.SIGNED_IN
    handle.token(timeout=None)  # waits for a pending sign-in; raises why it did not succeed
    username = (handle.account or {}).get("username") or settings.username
    cli_settings.save(cli_settings.settings_path(path), dataclasses.replace(settings, username=username))
    if from_cache:
        _say(f"Signed in as {username} at {handle.authority} (from the token cache).")
    return EXIT_OK


def cmd_token(args: argparse.Namespace) -> int:
    """Print an access token (signing in first where a person can, as login does)."""
    from ..integrations.source import token_source

    settings, path = _settings(args)
    source = token_source(_sign_in(settings, path), timeout=None)
    token = source(settings.scopes, force_refresh=args.force_refresh).access_token
    if args.header and not _HEADER_VALUE.fullmatch(token):
        raise ProtocolError("the access token has characters an HTTP header cannot carry")
    sys.stdout.write(f"Authorization: Bearer {token}\n" if args.header else token + "\n")
    sys.stdout.flush()
    return EXIT_OK


def cmd_accounts(args: argparse.Namespace) -> int:
    """List the signed-in accounts (username, environment, home account id)."""
    settings, path = _settings(args)
    accounts = _app(settings, path).get_accounts(username=args.username)
    if args.json:
        print(json.dumps(accounts, indent=2))  # ASCII: JSON escapes every control and bidi character
    else:
        for account in _printable_values(accounts):
            print("\t".join(account.get(k) or "-" for k in ("username", "environment", "home_account_id")))
    return EXIT_OK


def cmd_logout(args: argparse.Namespace) -> int:
    """Sign out: revoke the refresh tokens at the provider and forget the account here."""
    settings, path = _settings(args)
    service = _app(settings, path).service
    accounts = service.accounts(username=None if args.all else settings.username)
    if len(accounts) > 1 and not args.all:
        names = ", ".join(a.get("username") or a["home_account_id"] for a in accounts)
        raise ConfigurationError(f"several accounts are signed in ({names}): name one with --username, or use --all")
    if not accounts:
        _say("No account to sign out.")
    for account in accounts:
        try:
            service.revoke(account)
        finally:
            service.remove(account)
        _say(f"Signed out {account.get('username') or account['home_account_id']}.")
    if settings.username and any(a.get("username") == settings.username for a in accounts):
        cli_settings.save(cli_settings.settings_path(path), dataclasses.replace(settings, username=None))
    return EXIT_OK


def cmd_cache(args: argparse.Namespace) -> int:
    """Show the token cache's path, size, permissions and what it holds (counts, never tokens)."""
    import time

    from . import cache_status

    path = _cache_path(args)
    status = cache_status.describe(path, cli_settings.load(cli_settings.settings_path(path)), time.time())
    print(json.dumps(status, indent=2) if args.json else cache_status.as_text(_printable_values(status)))
    return EXIT_OK


# ---- what the commands share -----------------------------------------------------------------
def _cache_path(args: argparse.Namespace) -> Path:
    from ..cache.persistence import default_path

    return args.cache.expanduser() if args.cache else default_path()


def _settings(args: argparse.Namespace) -> "tuple[Settings, Path]":
    """The command's settings (client id required) and its cache path."""
    path = _cache_path(args)
    given = {name: getattr(args, name) for name in ("client_id", "authority", "oidc_authority", "scopes", "username")}
    settings = cli_settings.resolve(given, os.environ, cli_settings.load(cli_settings.settings_path(path)))
    if not settings.client_id:
        raise ConfigurationError("no client id: pass --client-id or set NBAUTH_CLIENT_ID "
                                 "(nbauth login saves it for later commands)")
    return settings, path


def _app(settings: Settings, path: Path) -> Any:
    from ..apps.public import PublicClientApplication
    from ..cache import PersistedTokenCache

    return PublicClientApplication(settings.client_id, authority=settings.authority,
                                   oidc_authority=settings.oidc_authority, token_cache=PersistedTokenCache(path))


def _sign_in(settings: Settings, path: Path) -> Any:
    """``nbauth.login``'s handle: signed in from the cache, or showing a device code, or raising
    InteractionUnavailable where nobody can be reached."""
    from ..cache import PersistedTokenCache
    from ..notebook import login

    return login(settings.client_id, settings.authority, settings.scopes, oidc_authority=settings.oidc_authority,
                 cache=PersistedTokenCache(path), username=settings.username,
                 keep_fresh=False)  # the process ends soon: the next `nbauth token` refreshes


def _say(message: str) -> None:
    print(printable(message), file=sys.stderr, flush=True)


def _say_provider_details(error: Optional[BaseException]) -> None:
    """What the provider sent with its error (``error``, if an ``OAuthError``) that support
    staff or a new sign-in may need."""
    if not isinstance(error, OAuthError):
        return
    details = {"error codes": ", ".join(map(str, error.error_codes)), "correlation id": error.correlation_id,
               "claims challenge": error.claims}
    for name, value in details.items():
        if value:
            _say(f"nbauth: {name}: {value}")


def _printable_values(value: Any) -> Any:
    """A JSON-like ``value`` with each string made ``printable``, for a person's terminal."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {key: _printable_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_printable_values(item) for item in value]
    return value


def exit_status(error: BaseException) -> int:
    """The documented exit status for an error that ended a command."""
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, InteractionUnavailable):
        return EXIT_NO_PERSON
    if isinstance(error, FlowError) or (isinstance(error, OAuthError) and error.error in _SIGN_IN_ENDED):
        return EXIT_NOT_SIGNED_IN
    if isinstance(error, ConfigurationError):
        return EXIT_USAGE
    return EXIT_FAILED


def cmd_redirect_uri(args: argparse.Namespace) -> int:
    """Print the redirect URI that browser sign-in from notebooks at URL uses, and where to register it."""
    from ..flows.browser import WHERE_TO_REGISTER, redirect_uri_for

    print(redirect_uri_for(args.url, args.base_url, args.hub))
    print(WHERE_TO_REGISTER[0].upper() + WHERE_TO_REGISTER[1:] + ".")
    return 0


# ---- the parser ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nbauth", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="OAuth 2.0 / OpenID Connect tokens in the shell, from the token cache notebooks use.")
    parser.add_argument("--version", action="version", version=f"nbauth {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    cache_option = argparse.ArgumentParser(add_help=False)
    cache_option.add_argument("--cache", type=Path, metavar="PATH",
                              help="token cache file [NBAUTH_CACHE_PATH; default: the per-user cache]")
    sign_in = argparse.ArgumentParser(add_help=False, parents=[cache_option])
    group = sign_in.add_argument_group("sign-in settings")
    group.add_argument("--client-id", help="the application (client) id [NBAUTH_CLIENT_ID]")
    group.add_argument("--authority", help="an Entra ID authority, e.g. "
                       "https://login.microsoftonline.com/TENANT [NBAUTH_AUTHORITY]")
    group.add_argument("--oidc-authority", metavar="ISSUER",
                       help="any OpenID provider, by its issuer URL [NBAUTH_OIDC_AUTHORITY]")
    group.add_argument("--scopes", action="append", metavar="SCOPES",
                       help="scopes, separated by spaces or commas; may repeat [NBAUTH_SCOPES]")
    group.add_argument("--username", help="which signed-in account to use [NBAUTH_USERNAME]")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON")

    def command(name: str, run: Callable[[argparse.Namespace], int], parents: List[argparse.ArgumentParser],
                help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=parents, help=help_text, description=help_text, epilog=EPILOG,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(run=run)
        return sub

    command("login", cmd_login, [sign_in], "sign in (a device code on this terminal) and save the settings")
    token = command("token", cmd_token, [sign_in], "print an access token on stdout, and nothing else")
    token.add_argument("--force-refresh", action="store_true", help="get a new token even if the cached one is fresh")
    token.add_argument("--header", action="store_true",
                       help="print it as the line 'Authorization: Bearer TOKEN', for: nbauth token --header | curl -H @- URL")
    command("accounts", cmd_accounts, [sign_in, as_json], "list the signed-in accounts")
    logout = command("logout", cmd_logout, [sign_in], "sign out: revoke the refresh token and forget the account")
    logout.add_argument("--all", action="store_true", help="sign out every account of this application")
    command("cache", cmd_cache, [cache_option, as_json], "show the token cache's path, size, permissions and counts")
    redirect = command("redirect-uri", cmd_redirect_uri, [], "print the redirect URI to register for browser sign-in "
                       "from notebooks at URL (a Jupyter server, or with --hub a JupyterHub)")
    redirect.add_argument("url", metavar="URL", help="the notebook server's (or hub's) address, e.g. https://hub.example.org")
    redirect.add_argument("--base-url", default="/", help="the Jupyter server's base URL (default /)")
    redirect.add_argument("--hub", nargs="?", const="/hub/", metavar="PREFIX",
                          help="a JupyterHub: one URI for every user, through PREFIX (default /hub/) user-redirect")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``nbauth`` command; returns its exit status."""
    args = build_parser().parse_args(argv)
    warnings.formatwarning = lambda message, category, *rest, **kw: f"nbauth: warning: {printable(str(message))}\n"
    try:
        return args.run(args)
    except KeyboardInterrupt as error:
        _say("nbauth: interrupted")
        return exit_status(error)
    except NbauthError as error:
        _say(f"nbauth: error: {error}")
        _say_provider_details(error if isinstance(error, OAuthError) else error.__cause__)
        if isinstance(error, InteractionUnavailable):
            _say("nbauth: sign in once with `nbauth login` where a person can; later commands are then silent")
        return exit_status(error)
