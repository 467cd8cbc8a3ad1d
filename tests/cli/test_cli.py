"""The nbauth command run as real processes with nobody there (CI), on a cache shared with the library."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from idp.server import NATIVE_CLIENT
from nbauth.cache import PersistedTokenCache
from support.cli import cache_path, ci_env, env, nbauth_command, run_process, sign_in_options  # noqa: F401
from support.integrations import signed_in_app, verified_claims


@pytest.fixture
def library_sign_in(idp, cache_path):
    """Sign users in with the library, into the cache file the command uses."""
    def sign_in(user="alice"):
        app, account = signed_in_app(idp, user=user, cache=PersistedTokenCache(cache_path))
        return app, account
    return sign_in


def settings_env(ci_env, idp):
    return dict(ci_env, NBAUTH_CLIENT_ID=NATIVE_CLIENT, NBAUTH_OIDC_AUTHORITY=idp.issuer, NBAUTH_SCOPES="api:read")


def test_no_sign_in_in_ci_fails_at_once_with_status_3(idp, ci_env):
    idp.reset_stats()
    started = time.perf_counter()
    run = nbauth_command("token", *sign_in_options(idp), env=ci_env)
    assert time.perf_counter() - started < 10
    assert (run.returncode, run.stdout) == (3, "")
    assert "sign-in needs a person, and none can be reached here (CI is set)" in run.stderr
    assert "`nbauth login`" in run.stderr
    assert [e for e in idp.request_log() if e["endpoint"] == "device_authorization"] == []


def test_token_from_environment_settings_is_the_librarys_cached_token(idp, ci_env, library_sign_in, cache_path):
    app, account = library_sign_in()
    cached = app.acquire_token_silent(["api:read"], account)["access_token"]
    idp.reset_stats()
    run = nbauth_command("token", env=settings_env(ci_env, idp))
    assert (run.returncode, run.stdout, run.stderr) == (0, cached + "\n", "")
    assert verified_claims(idp, cached)["iss"] == idp.issuer
    assert idp.token_log() == []


def test_token_header_prints_the_authorization_header_line(idp, ci_env, library_sign_in):
    app, account = library_sign_in()
    cached = app.acquire_token_silent(["api:read"], account)["access_token"]
    run = nbauth_command("token", "--header", env=settings_env(ci_env, idp))
    assert (run.returncode, run.stdout, run.stderr) == (0, f"Authorization: Bearer {cached}\n", "")


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl on this machine")
def test_token_header_piped_to_curl_keeps_the_token_off_every_command_line(idp, ci_env, library_sign_in, fake_server):
    app, account = library_sign_in()
    cached = app.acquire_token_silent(["api:read"], account)["access_token"]
    fake_server.route("GET", "/data", lambda request: (200, {}, {"authorization": request.headers.get("Authorization")}))
    token = subprocess.Popen([sys.executable, "-m", "nbauth", "token", "--header"], env=settings_env(ci_env, idp),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    try:
        answer = run_process(["curl", "-sS", "--noproxy", "*", "-H", "@-", fake_server.url + "/data"], ci_env,
                             stdin=token.stdout)
    finally:
        token.stdout.close()
        assert token.wait(timeout=30) == 0
    assert json.loads(answer.stdout) == {"authorization": f"Bearer {cached}"}


def test_force_refresh_prints_a_new_token_from_the_provider(idp, ci_env, library_sign_in):
    app, account = library_sign_in()
    cached = app.acquire_token_silent(["api:read"], account)["access_token"]
    idp.reset_stats()
    run = nbauth_command("token", "--force-refresh", env=settings_env(ci_env, idp))
    assert run.returncode == 0, run.stderr
    token = run.stdout.strip()
    assert token != cached and verified_claims(idp, token)["sub"] == "alice"
    assert idp.count("refresh_token") == 1
    assert app.acquire_token_silent(["api:read"], account)["access_token"] == token  # saved for the library


def test_accounts_as_lines_and_json(idp, ci_env, library_sign_in):
    library_sign_in("alice")
    library_sign_in("bob")
    env = settings_env(ci_env, idp)
    run = nbauth_command("accounts", env=env)
    assert run.returncode == 0
    assert sorted(run.stdout.splitlines()) == ["alice@example.test\t127.0.0.1\talice", "bob@example.test\t127.0.0.1\tbob"]
    run = nbauth_command("accounts", "--json", "--username", "BOB@example.test", env=env)
    (bob,) = json.loads(run.stdout)
    assert (bob["username"], bob["home_account_id"]) == ("bob@example.test", "bob")


def test_logout_revokes_at_the_provider_and_forgets_the_account(idp, ci_env, library_sign_in):
    library_sign_in("alice")
    library_sign_in("bob")
    env = settings_env(ci_env, idp)
    run = nbauth_command("logout", env=env)
    assert run.returncode == 2 and "several accounts are signed in" in run.stderr
    idp.reset_stats()
    run = nbauth_command("logout", "--username", "bob@example.test", env=env)
    assert (run.returncode, run.stderr) == (0, "Signed out bob@example.test.\n")
    assert [(e["endpoint"], e["status"]) for e in idp.request_log()] == [("revocation", 200)]
    assert nbauth_command("accounts", env=env).stdout.split("\t")[0] == "alice@example.test"
    assert nbauth_command("logout", "--all", env=env).stderr == "Signed out alice@example.test.\n"
    assert nbauth_command("accounts", env=env).stdout == ""
    assert nbauth_command("token", env=env).returncode == 3
    assert nbauth_command("logout", env=env).stderr == "No account to sign out.\n"


def test_cache_status_tells_counts_and_permissions_and_no_secret(idp, ci_env, library_sign_in, cache_path):
    library_sign_in("alice")
    library_sign_in("bob")
    text = nbauth_command("cache", env=ci_env)
    raw = nbauth_command("cache", "--json", env=ci_env)
    assert text.returncode == raw.returncode == 0
    status = json.loads(raw.stdout)
    assert status["path"] == str(cache_path) and status["size"] == cache_path.stat().st_size
    assert status["file"] == {"mode": "0600", "owner_only": True} and status["folder"]["owner_only"]
    assert status["counts"] == {"accounts": 2, "access_tokens": 2, "valid_access_tokens": 2, "refresh_tokens": 2,
                                "id_tokens": 2, "app_metadata": 1}
    assert "accounts: 2, access tokens: 2 (2 unexpired), refresh tokens: 2" in text.stdout
    assert "0600 (owner only)" in text.stdout
    secrets = [entry["secret"] for section in ("AccessToken", "RefreshToken", "IdToken")
               for entry in json.loads(cache_path.read_text())[section].values()]
    assert len(secrets) == 6 and not [s for s in secrets if s in text.stdout + raw.stdout + text.stderr]


def test_cache_status_of_an_open_file_and_of_no_file(ci_env, cache_path, library_sign_in):
    assert "(none yet: sign in with nbauth login)" in nbauth_command("cache", env=ci_env).stdout
    library_sign_in()
    os.chmod(cache_path, 0o644)
    run = nbauth_command("cache", "--json", env=ci_env)
    # reading the file narrowed it, as every nbauth reader does, and said so
    assert json.loads(run.stdout)["file"] == {"mode": "0600", "owner_only": True}
    assert run.stderr == (f"nbauth: warning: the token cache file {cache_path} was open to other users; "
                          "it is now owner-only (0600)\n")


def test_an_unreachable_provider_exits_1_naming_it(idp, ci_env, cache_path, library_sign_in):
    library_sign_in()
    unreachable = "https://127.0.0.1:1/oidc"  # nothing listens; the account signed in there before (the
    # cache keeps each entry to the provider it came from)
    cache_path.write_text(cache_path.read_text().replace(json.dumps(idp.issuer), json.dumps(unreachable)))
    env = dict(settings_env(ci_env, idp), NBAUTH_OIDC_AUTHORITY=unreachable)
    run = nbauth_command("token", env=env)
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr.startswith("nbauth: error: could not fetch the OpenID configuration")
    assert "connection failed (authority https://127.0.0.1:1/oidc)" in run.stderr


@pytest.mark.parametrize("args, message", [
    (["token"], "no client id: pass --client-id or set NBAUTH_CLIENT_ID"),
    (["token", "--client-id", "x", "--oidc-authority", "http://idp.example"], "must use https"),
    (["token", "--client-id", "x", "--authority", "https://a.example", "--oidc-authority", "https://b.example"],
     "either authority or oidc_authority"),
])
def test_configuration_mistakes_exit_2_naming_them(ci_env, args, message):
    run = nbauth_command(*args, env=ci_env)
    assert run.returncode == 2 and message in run.stderr and run.stdout == ""


def test_the_console_script_documents_its_exit_statuses(env):
    script = Path(sys.executable).with_name("nbauth")
    run = run_process([str(script), "--help"], env)
    assert run.returncode == 0
    for line in ("0    success", "2    bad usage", "3    sign-in is needed and no person", "4    the sign-in did not",
                 "130  interrupted"):
        assert line in run.stdout
    assert nbauth_command("token", "--help", env=env).stdout.count("[NBAUTH_") == 6


def test_token_on_a_cache_hit_loads_no_heavy_module(idp, ci_env, library_sign_in):
    library_sign_in()
    probe = ("import sys, io, contextlib\nfrom nbauth.cli.command import main\nout = io.StringIO()\n"
             "with contextlib.redirect_stdout(out):\n    code = main(['token'])\n"
             "print(code, sorted(m for m in ('jwt', 'cryptography', 'ipywidgets', 'IPython', 'pexpect', 'msal')"
             " if m in sys.modules))")
    run = run_process([sys.executable, "-c", probe], settings_env(ci_env, idp))
    assert run.stdout == "0 []\n", run.stderr
