"""nbauth's sign-in story against a local OpenID provider (``make demo``).

Starts the test provider from ``tests/idp`` on 127.0.0.1, signs in with a device code the way
MSAL's documentation shows it, prints the account, the scopes, the expiry and the access
token's claims, then acquires the token again silently, from the cache.

    python notebooks/demo.py                  # a person signs in at the printed link
    python notebooks/demo.py --self-approve   # the demo approves its own code (scripts, tests)
    python notebooks/demo.py --lab            # JupyterLab on notebooks/quickstart.ipynb instead
"""
from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the local provider lives with the tests

from idp.server import NATIVE_CLIENT, USERS, LocalIdP  # noqa: E402

import nbauth  # noqa: E402

DEMO_USER = "alice"
SCOPES = ["api:read"]


def jwt_claims(token: str) -> dict:
    """The claims of a JWT, decoded for display (the provider signed it; nothing is verified here)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def when(seconds_from_now: int) -> str:
    moment = datetime.datetime.now().astimezone() + datetime.timedelta(seconds=seconds_from_now)
    return f"in {seconds_from_now} s (at {moment:%H:%M:%S %Z})"


def show_instructions(flow: dict, ca_path: str) -> None:
    print(flow["message"])
    print(f"\n  verification link: {flow.get('verification_uri_complete', flow['verification_uri'])}")
    print(f"  user code:         {flow['user_code']}")
    print(f"  demo user:         {DEMO_USER} / {USERS[DEMO_USER]}")
    print(f"\nThe provider's certificate is signed by a CA made for this run ({ca_path}),\n"
          "so your browser will warn about it; it is safe to continue to 127.0.0.1.\n", flush=True)


def sign_in(app: nbauth.PublicClientApplication, idp: LocalIdP, self_approve: bool) -> dict:
    flow = app.initiate_device_flow(SCOPES)
    if "error" in flow:
        raise SystemExit(f"could not start the sign-in: {flow['error']}: {flow.get('error_description')}")
    show_instructions(flow, idp.ca_path)
    if self_approve:
        print(f"--self-approve: approving code {flow['user_code']} as {DEMO_USER}.", flush=True)
        idp.approve_device(flow["user_code"], DEMO_USER)
    else:
        print("Waiting for you to sign in (Ctrl-C to stop)...", flush=True)
    return app.acquire_token_by_device_flow(flow)


def show_result(title: str, result: dict) -> None:
    print(f"\n== {title}")
    if "access_token" not in result:
        raise SystemExit(f"sign-in failed: {result.get('error')}: {result.get('error_description')}")
    print(f"token source: {result['token_source']}")
    print(f"scopes:       {result['scope']}")
    print(f"expires:      {when(int(result['expires_in']))}")


def show_account(app: nbauth.PublicClientApplication) -> dict:
    (account,) = app.get_accounts()
    print(f"account:      {account['username']} (home_account_id {account['home_account_id']}, "
          f"environment {account['environment']})")
    return account


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--self-approve", action="store_true",
                        help="approve the device code without a person (for scripts and tests)")
    parser.add_argument("--lab", action="store_true", help="open the quickstart notebook in JupyterLab")
    parser.add_argument("--port", type=int, default=8888, help="JupyterLab's port (with --lab)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser (with --lab)")
    args = parser.parse_args(argv)
    print("Starting the local OpenID provider...", flush=True)
    with LocalIdP(device_interval=1 if args.self_approve else 5) as idp:
        os.environ["REQUESTS_CA_BUNDLE"] = idp.ca_path  # trust the provider's throwaway CA
        print(f"issuer: {idp.issuer}\n", flush=True)
        if args.lab:
            from demo_lab import run_lab  # beside this file

            return run_lab(idp.issuer, idp.ca_path, port=args.port, open_browser=not args.no_browser)
        app = nbauth.PublicClientApplication(NATIVE_CLIENT, oidc_authority=idp.issuer)
        try:
            first = sign_in(app, idp, args.self_approve)
        except KeyboardInterrupt:
            print("\nStopped.")
            return 130
        show_result("Signed in with a device code", first)
        account = show_account(app)
        print("access token claims:")
        print(json.dumps(jwt_claims(first["access_token"]), indent=2, sort_keys=True))
        second = app.acquire_token_silent(SCOPES, account=account)
        show_result("Second acquisition, silent", second or {"error": "no token in the cache"})
        same = second["access_token"] == first["access_token"]
        print(f"same access token as the first: {same}")
    return 0 if second["token_source"] == "cache" and same else 1


if __name__ == "__main__":
    sys.exit(main())
