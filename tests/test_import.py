"""``import nbauth`` is light: heavy and optional packages load only when a feature needs them."""
import subprocess
import sys

import pytest

HEAVY = ("requests", "jwt", "cryptography", "ipywidgets", "IPython", "platformdirs", "urllib3", "asyncio", "httpx",
         "azure.core")
ENGINES = ("dask", "distributed", "ray", "pyspark", "cloudpickle")


def _loaded_after(code: str, modules=HEAVY) -> set:
    probe = f"import sys; {code}; print(' '.join(m for m in {tuple(modules)!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_nbauth_loads_none_of_the_heavy_packages():
    assert _loaded_after("import nbauth") == set()


def test_constructing_an_application_does_no_io_and_loads_no_widget_code():
    loaded = _loaded_after("import nbauth; nbauth.PublicClientApplication('c', "
                           "oidc_authority='https://idp.example.org/realm')")
    assert not loaded & {"ipywidgets", "IPython", "cryptography"}


@pytest.mark.parametrize("name", ["PublicClientApplication", "ConfidentialClientApplication", "TokenCache",
                                  "PersistedTokenCache", "login", "SignIn", "BearerAuth", "NbauthCredential",
                                  "AsyncNbauthCredential", "HttpxBearerAuth",
                                  "ClusterSignIn"])
def test_public_names_resolve_lazily(name):
    import nbauth

    assert name in dir(nbauth) and getattr(nbauth, name) is not None


def test_cluster_sign_in_is_nbauth_clusters_and_loads_no_engine_or_heavy_package():
    import nbauth.cluster

    assert nbauth.ClusterSignIn is nbauth.cluster.ClusterSignIn
    assert _loaded_after("import nbauth; nbauth.ClusterSignIn", HEAVY + ENGINES) == set()


def test_unknown_attribute_is_an_attribute_error():
    import nbauth

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        nbauth.nope
