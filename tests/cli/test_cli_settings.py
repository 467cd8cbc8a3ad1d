"""Where the nbauth command's settings come from: options, environment, then what login saved."""
import json
import os
import stat

import pytest

from nbauth.exceptions import ConfigurationError
from nbauth.cli.settings import Settings, load, resolve, save, settings_path, split_scopes

SAVED = {"client_id": "saved-client", "oidc_authority": "https://saved.example", "scopes": ["saved:read"],
         "username": "saved@example.test"}


def test_options_win_over_environment_which_wins_over_saved():
    given = {"client_id": "cli-client", "authority": None, "oidc_authority": None, "scopes": None, "username": None}
    environ = {"NBAUTH_SCOPES": "env:read, env:write", "NBAUTH_USERNAME": "env@example.test"}
    assert resolve(given, environ, SAVED) == Settings(
        client_id="cli-client", oidc_authority="https://saved.example", scopes=["env:read", "env:write"],
        username="env@example.test")


def test_the_authority_pair_comes_from_one_place():
    """An Entra authority given on the command line is not combined with a saved oidc_authority."""
    given = {"authority": "https://login.microsoftonline.com/contoso.example"}
    settings = resolve(given, {}, SAVED)
    assert (settings.authority, settings.oidc_authority) == ("https://login.microsoftonline.com/contoso.example", None)
    settings = resolve({}, {"NBAUTH_OIDC_AUTHORITY": "https://env.example"}, {"authority": "https://x.example"})
    assert (settings.authority, settings.oidc_authority) == (None, "https://env.example")


def test_scopes_split_on_spaces_and_commas_from_repeated_options():
    assert split_scopes(["api:read,api:write", " openid  profile "]) == ["api:read", "api:write", "openid", "profile"]
    assert split_scopes("") == [] and split_scopes(None) == []


def test_saved_beside_the_cache_owner_only_and_read_back(tmp_path):
    path = settings_path(tmp_path / "folder" / "token_cache.json")
    assert path == tmp_path / "folder" / "token_cache.cli.json"
    save(path, Settings(**SAVED))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert load(path) == SAVED
    save(path, Settings(client_id="other"))
    assert load(path) == {"client_id": "other"}
    assert os.listdir(path.parent) == [path.name]  # no temporary file left behind


def test_missing_settings_are_empty_and_damaged_ones_are_named(tmp_path):
    assert load(tmp_path / "none.cli.json") == {}
    damaged = tmp_path / "token_cache.cli.json"
    damaged.write_text("[1, 2")
    with pytest.raises(ConfigurationError, match="token_cache.cli.json are not a JSON object"):
        load(damaged)
    damaged.write_text(json.dumps({"client_id": "c", "unknown": 1}))
    assert load(damaged) == {"client_id": "c"}
