"""One of several processes sharing a cache file, asking for a token when told to.

    python fanout_worker.py {nbauth|msal} CACHE_PATH ISSUER SCOPE

Builds the application on the persisted cache (nbauth's, or msal-extensions' for msal), finds
the account, prints "ready", waits for a line on stdin, calls ``acquire_token_silent`` and prints
one JSON line: whether it got a token, from where, and how long the call took.
"""
import json
import sys
import time

from first_token import application


def main():
    library, path, issuer, scope = sys.argv[1:5]
    app = application(library, path, issuer, None)
    account = app.get_accounts()[0]
    warm = getattr(getattr(app, "service", None), "metadata", None)  # nbauth discovers on first use; msal in its constructor
    if library == "nbauth" and warm is not None:
        warm()
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    result = app.acquire_token_silent([scope], account) or {}
    elapsed = time.perf_counter() - started
    print(json.dumps({"served": "access_token" in result, "token_source": result.get("token_source"),
                      "seconds": elapsed}), flush=True)


if __name__ == "__main__":
    main()
