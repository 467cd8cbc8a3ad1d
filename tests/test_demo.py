"""The README's main job: ``make demo DEMO_ARGS=--self-approve`` runs the sign-in story end to end."""
import re
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "notebooks" / "demo.py"


def test_the_demo_signs_in_then_serves_the_token_from_the_cache():
    done = subprocess.run([sys.executable, str(DEMO), "--self-approve"], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    user_code = re.search(r"user code:\s+(\S+)", out).group(1)
    assert "verification link: https://127.0.0.1:" in out and f"user_code={user_code}" in out
    assert "demo user:         alice / alice-pw" in out
    first, second = out.split("== Second acquisition, silent")
    assert "token source: identity_provider" in first and "token source: cache" in second
    assert "scopes:       api:read" in first and re.search(r"expires:\s+in \d+ s", second)
    assert "account:      alice@example.test" in first
    assert '"sub": "alice"' in first and '"aud": "urn:nbauth:test-api"' in first  # the claims, decoded
    assert "same access token as the first: True" in second
    assert not re.search(r"eyJ[\w-]+\.[\w-]+\.", out + done.stderr)  # no token itself is printed
