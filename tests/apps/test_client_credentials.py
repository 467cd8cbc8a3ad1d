"""Client credentials: each of MSAL's forms becomes the right token-endpoint authentication, and
every bad credential is refused up front with a message that names the problem and leaks nothing."""
from __future__ import annotations

import base64
import datetime
import hashlib
import json

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from nbauth.credentials.client_credential import (
    CLIENT_ASSERTION_TYPE_JWT, ClientAssertion, ClientSecretBasic, ClientSecretPost, parse_client_credential,
)
from nbauth.exceptions import ConfigurationError

CLIENT_ID = "my-client"
TOKEN_ENDPOINT = "https://idp.example.test/oauth2/token"
NOW = 1_800_000_000.0
SECRET = "s3cr3t:with/odd chars+%"


def clock():
    return NOW


def make_key(kind="rsa"):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key({"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "k256": ec.SECP256K1()}[kind])


def make_cert(key, *, not_before=NOW - 3600, not_after=NOW + 3600, issuer_key=None):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CLIENT_ID)])
    utc = datetime.timezone.utc
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime.fromtimestamp(not_before, utc))
            .not_valid_after(datetime.datetime.fromtimestamp(not_after, utc))
            .sign(issuer_key or key, hashes.SHA256()))


def key_pem(key, passphrase=None, fmt=serialization.PrivateFormat.PKCS8):
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def cert_der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def rsa_key():
    return make_key("rsa")


@pytest.fixture(scope="module")
def rsa_cert(rsa_key):
    return make_cert(rsa_key)


def applied(auth, endpoint=TOKEN_ENDPOINT):
    data, headers = {"grant_type": "client_credentials"}, {}
    auth.apply(data, headers, endpoint)
    return data, headers


def parse(credential, **kwargs):
    return parse_client_credential(credential, CLIENT_ID, clock=clock, **kwargs)


def decoded(token, key):
    return jwt.decode(token, key.public_key(), algorithms=["RS256", "PS256", "ES256", "ES384"],
                      audience=TOKEN_ENDPOINT, options={"verify_exp": False, "verify_iat": False,
                                                         "verify_nbf": False})


# ---- secrets ----------------------------------------------------------------------------------
def test_a_secret_string_is_client_secret_basic_with_both_parts_form_encoded():
    auth = parse(SECRET)
    assert isinstance(auth, ClientSecretBasic) and auth.auth_method == "client_secret_basic"
    data, headers = applied(auth)
    scheme, value = headers["Authorization"].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(value).decode() == "my-client:s3cr3t%3Awith%2Fodd%20chars%2B%25"
    assert "client_secret" not in data


def test_client_secret_post_is_selectable_and_puts_the_secret_in_the_form():
    auth = parse({"client_secret": SECRET, "token_endpoint_auth_method": "client_secret_post"})
    assert isinstance(auth, ClientSecretPost)
    data, headers = applied(auth)
    assert data["client_id"] == CLIENT_ID and data["client_secret"] == SECRET
    assert "Authorization" not in headers


def test_client_secret_dict_defaults_to_basic():
    assert isinstance(parse({"client_secret": SECRET}), ClientSecretBasic)


@pytest.mark.parametrize("credential, fragment", [
    ("", "empty secret"),
    ({"client_secret": SECRET, "token_endpoint_auth_method": "private_key_jwt"}, "token_endpoint_auth_method"),
    ({"client_secret": 42}, "client_secret must be a string"),
    (42, "client_credential must be"),
    ({}, "exactly one of"),
    ({"client_secret": SECRET, "client_assertion": "a.b.c"}, "exactly one of"),
    ({"client_secret": SECRET, "passphrase": "pw"}, "does not go with ['passphrase']"),
    ({"client_secret": SECRET, "privat_key": "x"}, "unknown keys ['privat_key']"),
])
def test_bad_secret_forms_are_named(credential, fragment):
    with pytest.raises(ConfigurationError) as caught:
        parse(credential)
    assert fragment in str(caught.value)
    assert SECRET not in str(caught.value)


def test_secret_reprs_redact():
    for auth in (parse(SECRET), parse({"client_secret": SECRET, "token_endpoint_auth_method": "client_secret_post"})):
        assert SECRET not in repr(auth) and "<redacted>" in repr(auth) and CLIENT_ID in repr(auth)
        assert base64.b64encode(f"{CLIENT_ID}:".encode()).decode()[:8] not in repr(auth)


# ---- given assertions ---------------------------------------------------------------------------
def test_a_static_assertion_is_sent_as_jwt_bearer_client_assertion():
    auth = parse({"client_assertion": "header.payload.signature"})
    assert isinstance(auth, ClientAssertion)
    data, headers = applied(auth)
    assert data == {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                    "client_assertion_type": CLIENT_ASSERTION_TYPE_JWT,
                    "client_assertion": "header.payload.signature"}
    assert "header.payload" not in repr(auth)


def test_a_callable_assertion_is_called_for_every_request():
    issued = iter(["first.a.b", b"second.a.b"])
    auth = parse({"client_assertion": lambda: next(issued)})
    assert applied(auth)[0]["client_assertion"] == "first.a.b"
    assert applied(auth)[0]["client_assertion"] == "second.a.b"
    assert "callable" in repr(auth)


@pytest.mark.parametrize("bad", [None, "", 7])
def test_a_callable_returning_no_assertion_is_a_named_error(bad):
    auth = parse({"client_assertion": lambda: bad})
    with pytest.raises(ConfigurationError, match="client_assertion must give a non-empty string"):
        applied(auth)


# ---- certificates -------------------------------------------------------------------------------
def test_private_key_with_certificate_signs_a_fresh_rfc7523_assertion_per_request(rsa_key, rsa_cert):
    auth = parse({"private_key": key_pem(rsa_key), "public_certificate": cert_pem(rsa_cert)})
    assert auth.auth_method == "private_key_jwt"
    first, _ = applied(auth)
    second, _ = applied(auth)
    assert first["client_assertion_type"] == CLIENT_ASSERTION_TYPE_JWT and first["client_id"] == CLIENT_ID
    assert first["client_assertion"] != second["client_assertion"]
    claims = decoded(first["client_assertion"], rsa_key)
    assert claims["iss"] == claims["sub"] == CLIENT_ID and claims["aud"] == TOKEN_ENDPOINT
    assert claims["iat"] == claims["nbf"] == int(NOW) and 0 < claims["exp"] - NOW <= 600
    assert claims["jti"] != decoded(second["client_assertion"], rsa_key)["jti"]
    header = jwt.get_unverified_header(first["client_assertion"])
    assert header["alg"] == "PS256"
    assert header["x5t#S256"] == b64url(hashlib.sha256(cert_der(rsa_cert)).digest())
    assert header["x5t"] == b64url(hashlib.sha1(cert_der(rsa_cert)).digest())
    assert header["x5c"] == [base64.b64encode(cert_der(rsa_cert)).decode()]


def test_assertion_audience_is_the_endpoint_it_is_sent_to(rsa_key, rsa_cert):
    auth = parse({"private_key": key_pem(rsa_key), "public_certificate": cert_pem(rsa_cert)})
    other = "https://other.example.test/token"
    data, _ = applied(auth, other)
    assert jwt.decode(data["client_assertion"], rsa_key.public_key(), algorithms=["PS256"], audience=other,
                      options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})["aud"] == other


def test_thumbprint_only_gives_rs256_and_x5t(rsa_key, rsa_cert):
    thumbprint = hashlib.sha1(cert_der(rsa_cert)).hexdigest().upper()
    auth = parse({"private_key": key_pem(rsa_key), "thumbprint": thumbprint})
    token = applied(auth)[0]["client_assertion"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["x5t"] == b64url(bytes.fromhex(thumbprint))
    assert "x5c" not in header and "x5t#S256" not in header
    assert decoded(token, rsa_key)["iss"] == CLIENT_ID


def test_adfs_gets_rs256_and_sha1_only(rsa_key, rsa_cert):
    auth = parse({"private_key": key_pem(rsa_key), "public_certificate": cert_pem(rsa_cert)}, adfs=True)
    header = jwt.get_unverified_header(applied(auth)[0]["client_assertion"])
    assert header["alg"] == "RS256" and "x5t" in header and "x5t#S256" not in header


@pytest.mark.parametrize("kind, alg", [("p256", "ES256"), ("p384", "ES384")])
def test_ec_keys_sign_with_the_curves_algorithm(kind, alg):
    key = make_key(kind)
    auth = parse({"private_key": key_pem(key), "public_certificate": cert_pem(make_cert(key))})
    token = applied(auth)[0]["client_assertion"]
    assert jwt.get_unverified_header(token)["alg"] == alg
    assert decoded(token, key)["sub"] == CLIENT_ID


def test_encrypted_key_with_its_passphrase_and_traditional_format(rsa_key, rsa_cert):
    pem = key_pem(rsa_key, "pw", serialization.PrivateFormat.TraditionalOpenSSL)
    auth = parse({"private_key": pem.encode(), "passphrase": "pw", "public_certificate": cert_pem(rsa_cert)})
    assert decoded(applied(auth)[0]["client_assertion"], rsa_key)["iss"] == CLIENT_ID


def test_client_claims_are_signed_into_the_assertion(rsa_key, rsa_cert):
    auth = parse({"private_key": key_pem(rsa_key), "public_certificate": cert_pem(rsa_cert)},
                 client_claims={"client_ip": "10.0.0.1", "iss": "spoofed"})
    claims = decoded(applied(auth)[0]["client_assertion"], rsa_key)
    assert claims["client_ip"] == "10.0.0.1" and claims["iss"] == CLIENT_ID


def test_a_certificate_chain_goes_into_x5c_leaf_first(rsa_key):
    ca_key = make_key("p256")
    leaf, ca = make_cert(rsa_key, issuer_key=ca_key), make_cert(ca_key)
    auth = parse({"private_key": key_pem(rsa_key), "public_certificate": cert_pem(leaf) + cert_pem(ca)})
    header = jwt.get_unverified_header(applied(auth)[0]["client_assertion"])
    assert header["x5c"] == [base64.b64encode(cert_der(c)).decode() for c in (leaf, ca)]


def test_pfx_file_with_passphrase(tmp_path, rsa_key, rsa_cert):
    path = tmp_path / "client.pfx"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"client", rsa_key, rsa_cert, None, serialization.BestAvailableEncryption(b"pfx-pw")))
    plain = parse({"private_key_pfx_path": str(path), "passphrase": "pfx-pw"})
    header = jwt.get_unverified_header(applied(plain)[0]["client_assertion"])
    assert header["alg"] == "PS256" and "x5t#S256" in header and "x5c" not in header
    with_chain = parse({"private_key_pfx_path": str(path), "passphrase": "pfx-pw", "public_certificate": True})
    assert "x5c" in jwt.get_unverified_header(applied(with_chain)[0]["client_assertion"])
    with pytest.raises(ConfigurationError, match="passphrase is wrong"):
        parse({"private_key_pfx_path": str(path), "passphrase": "nope"})
    with pytest.raises(ConfigurationError, match="could not read private_key_pfx_path"):
        parse({"private_key_pfx_path": str(tmp_path / "missing.pfx")})


def test_certificate_reprs_show_no_key(rsa_key, rsa_cert):
    pem = key_pem(rsa_key)
    auth = parse({"private_key": pem, "public_certificate": cert_pem(rsa_cert)})
    body = pem.splitlines()[1]
    assert body not in repr(auth) and "PS256" in repr(auth)


# ---- refused certificate credentials ------------------------------------------------------------
def refused(credential, **kwargs) -> str:
    with pytest.raises(ConfigurationError) as caught:
        parse(credential, **kwargs)
    message = str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__
    for value in credential.values():
        if isinstance(value, str) and len(value) > 8:
            for line in value.splitlines():
                if len(line) > 8 and "-----" not in line:
                    assert line not in message
    return message


def test_malformed_pem_is_named(rsa_cert):
    garbage = "-----BEGIN PRIVATE KEY-----\nTm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n"
    assert "PEM data is malformed" in refused({"private_key": garbage, "public_certificate": cert_pem(rsa_cert)})
    assert "not a PEM private key" in refused({"private_key": "just text", "thumbprint": "0" * 40})


def test_wrong_passphrase_is_named(rsa_key, rsa_cert):
    pem = key_pem(rsa_key, "right-passphrase")
    message = refused({"private_key": pem, "passphrase": "wrong-passphrase", "public_certificate": cert_pem(rsa_cert)})
    assert "passphrase is wrong" in message and "wrong-passphrase" not in message


def test_missing_and_needless_passphrases_are_named(rsa_key, rsa_cert):
    assert "is encrypted: give its passphrase" in refused(
        {"private_key": key_pem(rsa_key, "pw"), "public_certificate": cert_pem(rsa_cert)})
    assert "passphrase but its private_key is not encrypted" in refused(
        {"private_key": key_pem(rsa_key), "passphrase": "pw", "public_certificate": cert_pem(rsa_cert)})


def test_expired_and_not_yet_valid_certificates_are_named(rsa_key):
    expired = make_cert(rsa_key, not_before=NOW - 7200, not_after=NOW - 60)
    assert "certificate expired on 2027-01-15" in refused(
        {"private_key": key_pem(rsa_key), "public_certificate": cert_pem(expired)})
    future = make_cert(rsa_key, not_before=NOW + 60, not_after=NOW + 7200)
    assert "not valid before" in refused({"private_key": key_pem(rsa_key), "public_certificate": cert_pem(future)})


def test_a_certificate_that_expires_while_the_app_runs_stops_signing(rsa_key):
    times = [NOW]
    cert = make_cert(rsa_key, not_after=NOW + 100)
    auth = parse_client_credential({"private_key": key_pem(rsa_key), "public_certificate": cert_pem(cert)},
                                   CLIENT_ID, clock=lambda: times[0])
    applied(auth)
    times[0] = NOW + 101
    with pytest.raises(ConfigurationError, match="certificate expired"):
        applied(auth)


def test_mismatched_certificate_and_thumbprint_are_named(rsa_key, rsa_cert):
    other = make_cert(make_key("rsa"))
    assert "does not match its private_key" in refused(
        {"private_key": key_pem(rsa_key), "public_certificate": cert_pem(other)})
    assert "is not the SHA-1 thumbprint" in refused(
        {"private_key": key_pem(rsa_key), "public_certificate": cert_pem(rsa_cert), "thumbprint": "ab" * 20})
    assert "40 hex digits" in refused({"private_key": key_pem(rsa_key), "thumbprint": "not-hex"})


@pytest.mark.parametrize("credential_of, fragment", [
    (lambda key, cert: {"private_key": key_pem(key)}, "needs a thumbprint or a public_certificate"),
    (lambda key, cert: {"private_key": key_pem(key), "public_certificate": "no pem here"},
     "not a PEM certificate"),
    (lambda key, cert: {"private_key": key_pem(key), "public_certificate": key_pem(key)},
     "holds a private key, not a certificate"),
    (lambda key, cert: {"private_key": key_pem(key), "public_certificate": True}, "goes with private_key_pfx_path"),
    (lambda key, cert: {"private_key": key_pem(key), "client_assertion": "a.b.c"}, "exactly one of"),
    (lambda key, cert: {"private_key": key_pem(key), "thumbprint": "ab" * 20, "x5c": "?"}, "unknown keys ['x5c']"),
    (lambda key, cert: {"private_key": 12, "thumbprint": "ab" * 20}, "must be PEM text"),
])
def test_incomplete_or_confused_certificate_credentials_are_named(rsa_key, rsa_cert, credential_of, fragment):
    assert fragment in refused(credential_of(rsa_key, rsa_cert))


def test_unsupported_key_types_are_named():
    for kind, fragment in (("ed25519", "use an RSA or EC key"), ("k256", "use P-256, P-384 or P-521")):
        key = make_key(kind)
        assert fragment in refused({"private_key": key_pem(key), "thumbprint": "ab" * 20})


def test_parsing_never_imports_heavy_modules_for_a_secret():
    import subprocess
    import sys

    code = ("import sys, nbauth.credentials.client_credential as c; c.parse_client_credential('s', 'id'); "
            "print(json.dumps([m for m in ('jwt', 'cryptography', 'requests') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
