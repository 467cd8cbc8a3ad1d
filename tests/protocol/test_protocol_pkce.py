"""PKCE S256 (RFC 7636)."""
import pytest

from nbauth.exceptions import ConfigurationError
from nbauth.protocol.pkce import challenge_s256, new_pkce


def test_challenge_matches_rfc_7636_appendix_b():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # noqa: S105 - the RFC's example
    assert challenge_s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_a_fresh_pair_is_s256_with_a_long_random_verifier():
    first, second = new_pkce(), new_pkce()
    assert first.method == "S256"
    assert 43 <= len(first.verifier) <= 128 and first.verifier != second.verifier
    assert first.challenge == challenge_s256(first.verifier)


def test_the_repr_never_shows_the_verifier():
    pair = new_pkce()
    assert pair.verifier not in repr(pair) and pair.challenge in repr(pair)


@pytest.mark.parametrize("verifier", ["short", "x" * 129, "a" * 42 + "!"])
def test_a_verifier_outside_the_rfc_alphabet_or_length_is_refused(verifier):
    with pytest.raises(ConfigurationError, match="43 to 128"):
        new_pkce(verifier)
