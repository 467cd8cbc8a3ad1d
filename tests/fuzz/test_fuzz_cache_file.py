"""Fuzzing the token cache file: any bytes or JSON give a working cache (a CacheWarning and a
byte-exact backup when it is not a JSON object; parts it cannot use kept and named in a
CacheWarning), never an exception, never a half-written file."""
import json
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from support.fake_provider import FakeProvider
from support.fuzzing import deeply_nested, fuzz, json_texts, json_values, mutations, nbauth_error_or_nothing, tweaks
from nbauth.cache import PersistedTokenCache, SerializableTokenCache
from nbauth.cache.schema import KNOWN_SECTIONS, read_document
from nbauth.exceptions import CacheWarning, ConfigurationError

#: Odd parts of a document are named in a CacheWarning; the persisted-file test records its own.
pytestmark = pytest.mark.filterwarnings("ignore::nbauth.exceptions.CacheWarning")

ENTRY_EXTRAS = ("family_id", "refresh_on", "cached_at", "extended_expires_on", "last_modification_time",
                "ext_cache_key", "user_assertion_hash", "key_id", "username", "local_account_id", "authority_type")


def documents(seed: dict) -> st.SearchStrategy:
    """MSAL cache documents grown from ``seed``: entries kept, tweaked, mutated or replaced,
    sections now and then replaced by any JSON value, unknown sections added."""
    def section(entries):
        mutated = st.fixed_dictionaries({key: st.one_of(st.just(entry), tweaks(entry, ENTRY_EXTRAS),
                                                        tweaks(entry, ENTRY_EXTRAS), mutations(entry, ENTRY_EXTRAS),
                                                        json_values) for key, entry in entries.items()})
        return st.one_of(mutated, mutated, mutated, json_values)

    known = st.fixed_dictionaries({name: section(seed.get(name, {})) for name in KNOWN_SECTIONS})
    return st.tuples(known, st.dictionaries(st.text(max_size=8), json_values, max_size=2)).map(
        lambda parts: {**parts[1], **parts[0]})


def file_bytes(seed: dict) -> st.SearchStrategy:
    return (documents(seed).map(lambda doc: json.dumps(doc).encode())
            | json_texts.map(lambda text: text.encode("utf-8", "surrogatepass"))
            | st.binary(max_size=200) | st.sampled_from([b"", b"  \n", deeply_nested().encode(), b"\xef\xbb\xbf{}"]))


@pytest.fixture(scope="module")
def seed():
    """A real cache: alice signed in at a fake provider (both users' tokens, account, app metadata)."""
    from support.fake_http import FakeServer

    with FakeServer() as server:
        provider = FakeProvider(server)
        cache = SerializableTokenCache()
        app = provider.app(token_cache=cache)
        assert "access_token" in app.acquire_token_by_username_password("alice", "pw", ["api:read"])
        return json.loads(cache.serialize())


def test_deserialize_takes_any_state_or_refuses_it_clearly(seed):
    @fuzz(max_examples=300)
    @given(state=file_bytes(seed) | file_bytes(seed).map(lambda data: data.decode("utf-8", "replace")))
    def check(state):
        cache = SerializableTokenCache()
        try:
            cache.deserialize(state)
        except ConfigurationError as error:
            assert "cannot deserialize the token cache" in str(error)
            return
        again = SerializableTokenCache()
        again.deserialize(cache.serialize())  # what it took, it gives back in MSAL's format
        assert json.loads(again.serialize()) == json.loads(cache.serialize())
        for kind in KNOWN_SECTIONS:
            list(cache.search(kind))

    check()


def one_odd_field(seed: dict) -> st.SearchStrategy:
    """``seed`` with one field of one entry dropped or set to any JSON value."""
    places = [(name, key) for name in KNOWN_SECTIONS for key in seed.get(name, {})]

    def with_change(place):
        name, key = place
        return tweaks(seed[name][key], ENTRY_EXTRAS, max_changes=1).map(
            lambda entry: {**seed, name: {**seed[name], key: entry}})

    return st.sampled_from(places).flatmap(with_change)


def changed(seed: dict, section: str, **fields) -> dict:
    """``seed`` with its (first) entry of ``section`` changed; a field set to _GONE is dropped."""
    key, entry = next(iter(seed[section].items()))
    entry = {k: v for k, v in dict(entry, **fields).items() if v is not _GONE}
    return {**seed, section: {**seed[section], key: entry}}


_GONE = object()


def test_a_cache_with_one_odd_field_is_refused_clearly_or_used_without_errors(seed, fake_server):
    provider = FakeProvider(fake_server)

    @fuzz(max_examples=300, deadline_ms=3000)
    @given(document=one_odd_field(seed))
    @example(document=changed(seed, "AccessToken", refresh_on="abc"))  # each was an error in silent acquisition
    @example(document=changed(seed, "AccessToken", secret=_GONE))
    @example(document=changed(seed, "RefreshToken", last_modification_time="x"))
    @example(document=changed(seed, "Account", username=5))
    @example(document=changed(seed, "AccessToken", expires_on=10 ** 400))
    def check(document):
        cache = SerializableTokenCache()
        try:
            cache.deserialize(json.dumps(document))
        except ConfigurationError:
            return
        app = provider.app(token_cache=cache)
        with nbauth_error_or_nothing():
            app.get_accounts(username="alice@example.test")
            for account in app.get_accounts():
                app.acquire_token_silent_with_error(["api:read"], account)
                app.acquire_token_silent_with_error(["api:read"], account, force_refresh=True)
                app.remove_account(account)
        json.loads(cache.serialize())

    check()


def test_a_persisted_cache_over_any_file_works_and_never_loses_or_tears_it(seed, fake_server):
    provider = FakeProvider(fake_server)

    @fuzz(max_examples=120, deadline_ms=None)
    @given(data=file_bytes(seed))
    @example(data=deeply_nested().encode())  # was a RecursionError out of search()
    @example(data=json.dumps(changed(seed, "AccessToken", expires_on=float("inf"))).encode())  # an OverflowError
    def check(data):
        with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            path = Path(folder) / "token_cache.json"
            path.write_bytes(data)
            path.chmod(0o600)
            app = provider.app(token_cache=PersistedTokenCache(path))
            with nbauth_error_or_nothing():  # the provider's answers are valid: only the file is fuzzed
                for account in app.get_accounts():
                    app.acquire_token_silent(["api:read"], account)
                assert "access_token" in app.acquire_token_by_username_password("bob", "pw", ["api:read"])
            cache_warnings = [w for w in caught if issubclass(w.category, CacheWarning)]
            backups = [p for p in Path(folder).iterdir() if ".damaged-" in p.name]
            assert all(str(path) in str(w.message) for w in cache_warnings) and len(cache_warnings) <= 1
            if backups:
                assert [b.read_bytes() for b in backups] == [data] and len(cache_warnings) == 1
            else:
                assert all("cannot use" in str(w.message) for w in cache_warnings)
            saved = json.loads(path.read_bytes())  # whole; what nbauth cannot use is what it was given
            if not backups and data.strip():
                assert set(read_document(saved, {}).problems) <= set(read_document(json.loads(data), {}).problems)
            else:
                assert read_document(saved, {}).problems == []
            assert "alice-127.0.0.1-fake" in saved["Account"]  # the new sign-in was saved
            accounts = json.loads(data).get("Account", {}) if not backups and data.strip() else {}
            if isinstance(accounts, dict):  # a file that was taken keeps its accounts
                assert set(accounts) <= set(saved["Account"])

    check()
