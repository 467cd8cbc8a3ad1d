"""Tokens in PySpark tasks (``local[2]``, shared-cache mode) against the local provider with 10-second
access tokens and rotating refresh tokens: partitions call an API that verifies every JWT for
RUN_SECONDS (one window, as each engine's); every call is authorised, no refresh is refused, and the
provider sees at most one refresh per token lifetime, plus one."""
import os
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("PySpark needs Java 17 (apt-get install -y openjdk-17-jre-headless)", allow_module_level=True)

import nbauth  # noqa: E402
from idp.server import NATIVE_CLIENT  # noqa: E402
from nbauth import BearerAuth, PersistedTokenCache  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402
from support.clusters import SHARED_CACHE, Mode, call_apis, run_modes  # noqa: E402
from support.integrations import SCOPES, signed_in_app  # noqa: E402

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spark():
    # Spark starts its Python workers with PYSPARK_PYTHON and PYTHONPATH, not this interpreter and
    # its sys.path: give them this Python, nbauth (this checkout) and the test helpers.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYSPARK_PYTHON", sys.executable)
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "tests"),
                                                                  os.environ.get("PYTHONPATH")])))
        session = (SparkSession.builder.master("local[2]").appName("nbauth-tests")
                   .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate())
        yield session
        session.stop()


def test_shared_cache_mode_in_spark_tasks(spark, provider, api, tmp_path):
    path = tmp_path / "token_cache.json"
    signed_in_app(provider, cache=PersistedTokenCache(path))
    me = nbauth.login(NATIVE_CLIENT, oidc_authority=provider.issuer, scopes=SCOPES,
                      cache=PersistedTokenCache(path), ui="none")
    run_modes(lambda calls, until: spark.sparkContext.parallelize(range(2), 2)
              .mapPartitions(lambda _: [call_apis(calls, until)]).collect(),
              [Mode(SHARED_CACHE, BearerAuth(me), provider, api)])
