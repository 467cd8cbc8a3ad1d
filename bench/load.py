"""Load runs of nbauth alone (issue 10), at full length; ``tests/load/test_load.py`` runs them briefly.

    python bench/load.py            # 8 threads x 10,000 silent calls/s for 30 s; 8 processes for 60 s
    python bench/load.py --seconds 5 --refresh-seconds 10

1. Silent acquisitions: threads ask ``acquire_token_silent`` at a fixed total rate against a warm
   ``PersistedTokenCache``; passes with no error, no request sent (counted by the application's
   ``http_client`` and by the provider's log) and the target rate reached.
2. Refresh through one file: processes share one cache while access tokens live 1 second; passes
   with no call left without a token, no refresh token refused by the provider (a rotated one
   reused), the file never read torn, and exactly one refresh token left, which still works.

Prints a report and exits 1 if either run failed. The runs themselves are in
``tests/support/load.py``; the provider is ``tests/idp``'s, as in the other benchmarks.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.providers import Providers  # noqa: E402  (puts tests/ on sys.path)
from nbauth.cache import CredentialType, PersistedTokenCache  # noqa: E402
from support.load import (SCOPES, counting_session, persisted_app, refresh_load, refresh_problems,  # noqa: E402
                               signed_in_app, silent_load)


def _arguments(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rate", type=float, default=10_000, help="silent calls a second, all threads together")
    parser.add_argument("--seconds", type=float, default=30, help="length of the silent run")
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--refresh-seconds", type=float, default=60, help="length of the refresh run")
    return parser.parse_args(argv)


def run_silent(providers: Providers, work: Path, args: argparse.Namespace) -> List[str]:
    provider = providers.get(access_token_ttl=3600)
    session, sent = counting_session()
    app, account = signed_in_app(provider.issuer, work / "silent" / "token_cache.json", http_client=session)
    app.acquire_token_silent(SCOPES, account)  # warm: the provider's metadata is known from here on
    sent_before, provider_before = len(sent), len(provider.request_log())
    load = silent_load(app, account, threads=args.threads, seconds=args.seconds, rate=args.rate)
    requests_sent = len(sent) - sent_before + len(provider.request_log()) - provider_before
    print(f"## Silent acquisitions: {args.threads} threads, target {args.rate:,.0f}/s, {args.seconds:g} s\n\n"
          f"- calls: {load.calls:,} ({load.rate:,.0f}/s)\n"
          f"- latency: p50 {load.percentile(50) * 1e6:.0f} us, p99 {load.percentile(99) * 1e6:.0f} us, "
          f"max {max(load.latencies, default=0) * 1e6:.0f} us\n"
          f"- errors: {len(load.errors)}; requests sent: {requests_sent}\n", flush=True)
    problems = [f"silent: {len(load.errors)} errors, e.g. {load.errors[:3]}"] if load.errors else []
    if requests_sent:
        problems.append(f"silent: {requests_sent} requests reached the network")
    if load.rate < 0.99 * args.rate:
        problems.append(f"silent: {load.rate:,.0f} calls/s, under the target {args.rate:,.0f}/s")
    return problems


def run_refresh(providers: Providers, work: Path, args: argparse.Namespace) -> List[str]:
    provider = providers.get(access_token_ttl=1)
    path = work / "refresh" / "token_cache.json"
    signed_in_app(provider.issuer, path)
    provider.reset_stats()
    load = refresh_load(path, provider.issuer, processes=args.processes, seconds=args.refresh_seconds)
    outcomes = [entry["outcome"] for entry in provider.token_log("refresh_token")]
    left = [e["secret"] for e in PersistedTokenCache(path).search(CredentialType.REFRESH_TOKEN)]
    problems = [f"refresh: {problem}" for problem in refresh_problems(load, outcomes, left)]
    if not problems:
        app = persisted_app(provider.issuer, path)
        renewed = app.acquire_token_silent_with_error(SCOPES, app.get_accounts()[0], force_refresh=True) or {}
        if renewed.get("token_source") != "identity_provider":
            problems.append(f"refresh: the refresh token left does not work: {renewed.get('error')}")
    print(f"## Refresh through one cache: {args.processes} processes, 1-second tokens, "
          f"{args.refresh_seconds:g} s\n\n"
          f"- tokens served: {load.count('cache'):,} from the cache, {load.count('identity_provider'):,} "
          f"refreshed; calls without a token: {load.error_count}\n"
          f"- refresh-token redemptions at the provider: {outcomes.count('ok')} ok, "
          f"{len(outcomes) - outcomes.count('ok')} refused\n"
          f"- file reads during the run: {load.file_reads:,}, torn: {len(load.torn_reads)}\n", flush=True)
    return problems


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="nbauth-load-") as work, Providers(Path(work)) as providers:
        problems = run_silent(providers, Path(work), args) + run_refresh(providers, Path(work), args)
    print("\n".join(f"FAILED {problem}" for problem in problems) or "All load checks passed.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
