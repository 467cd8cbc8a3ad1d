"""Bad confidential credentials give a clear error naming the problem, and the secret, key,
passphrase or assertion appears nowhere: not in the error, the result, the app's repr, a
traceback or the logs."""
from __future__ import annotations

import datetime
import logging

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from idp.server import CONFIDENTIAL_CLIENT, PKJWT_CLIENT
from nbauth import ConfidentialClientApplication, ConfigurationError
from nbauth.cache import TokenCache
from support.leaks import encrypted, key_lines, traceback_text

WRONG_SECRET = "wrong-secret-Zq8vX2"
FORGED_ASSERTION = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJuYmF1dGgtcGtqd3QifQ.Zm9yZ2VkLXNpZ25hdHVyZQ"


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def new_app(idp, client_id, credential):
    return ConfidentialClientApplication(client_id, credential, oidc_authority=idp.issuer, token_cache=TokenCache())


def assert_nowhere(secrets, *texts):
    for secret in secrets:
        for text in texts:
            assert secret not in text


def refusal(credential, idp) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        new_app(idp, PKJWT_CLIENT, credential)
    return caught.value


def cert_for(key_pem: str, *, days: float) -> str:
    key = serialization.load_pem_private_key(key_pem.encode(), None)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, PKJWT_CLIENT)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_a_wrong_secret_is_invalid_client_and_leaks_nowhere(idp, logs):
    app = new_app(idp, CONFIDENTIAL_CLIENT, WRONG_SECRET)
    result = app.acquire_token_for_client(["api:read"])
    assert result["error"] == "invalid_client" and "authentication failed" in result["error_description"]
    assert_nowhere([WRONG_SECRET], str(result), repr(result), repr(app), str(app), repr(app.service.client_auth),
                   logs.text)


def test_a_forged_client_assertion_is_invalid_client_and_leaks_nowhere(idp, logs):
    app = new_app(idp, PKJWT_CLIENT, {"client_assertion": lambda: FORGED_ASSERTION})
    result = app.acquire_token_for_client(["api:read"])
    assert result["error"] == "invalid_client"
    assert_nowhere([FORGED_ASSERTION, FORGED_ASSERTION.split(".")[2]], str(result), repr(app),
                   repr(app.service.client_auth), logs.text)


def test_an_expired_certificate_is_named_with_its_date(idp, logs):
    expired = cert_for(idp.client_key_pem, days=-1)
    exc = refusal({"private_key": idp.client_key_pem, "public_certificate": expired}, idp)
    yesterday = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    assert f"certificate expired on {yesterday}" in str(exc)
    assert_nowhere(key_lines(idp.client_key_pem), str(exc), traceback_text(exc), logs.text)


def test_a_malformed_pem_is_named(idp, logs):
    lines = idp.client_key_pem.splitlines()
    truncated = "\n".join(lines[:5] + lines[-1:]) + "\n"  # header, some body, footer: not a key
    exc = refusal({"private_key": truncated, "public_certificate": idp.client_cert_pem}, idp)
    assert "private_key could not be loaded: the PEM data is malformed" in str(exc)
    assert_nowhere(key_lines(truncated), str(exc), traceback_text(exc), logs.text)


def test_a_wrong_passphrase_is_named(idp, logs):
    pem = encrypted(idp.client_key_pem, "the-right-passphrase")
    exc = refusal({"private_key": pem, "passphrase": "a-wrong-passphrase", "public_certificate": idp.client_cert_pem},
                  idp)
    assert "the passphrase is wrong" in str(exc)
    assert_nowhere(key_lines(pem) + ["a-wrong-passphrase", "the-right-passphrase"], str(exc), traceback_text(exc),
                   logs.text)


def test_the_right_passphrase_signs_in(idp):
    pem = encrypted(idp.client_key_pem, "the-right-passphrase")
    app = new_app(idp, PKJWT_CLIENT, {"private_key": pem, "passphrase": "the-right-passphrase",
                                      "public_certificate": idp.client_cert_pem})
    assert app.acquire_token_for_client(["api:read"])["token_source"] == "identity_provider"
    assert_nowhere(key_lines(pem) + ["the-right-passphrase"], repr(app), repr(app.service.client_auth))


def test_another_keys_certificate_is_named(idp):
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    exc = refusal({"private_key": other, "public_certificate": idp.client_cert_pem}, idp)
    assert "public_certificate does not match its private_key" in str(exc)


def test_a_missing_credential_is_named(idp):
    with pytest.raises(ConfigurationError, match="needs a client_credential"):
        ConfidentialClientApplication(CONFIDENTIAL_CLIENT, None, oidc_authority=idp.issuer)
