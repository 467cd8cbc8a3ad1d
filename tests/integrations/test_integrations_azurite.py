"""Real Azure clients on loopback: azure-storage-blob's aio client and adlfs + pandas against Azurite
(https, --oauth basic), with tokens from the local provider through AsyncNbauthCredential.
One Azurite for the module."""
import asyncio
import warnings

import pytest

from nbauth.integrations.aio import AsyncNbauthCredential
from support.azurite import ACCOUNT, STORAGE_SCOPE, Azurite
from support.integrations import signed_in_app

pytestmark = pytest.mark.timeout(120)
CSV = b"city,rain_mm\nBergen,2250\nCairo,18\n"


@pytest.fixture(scope="module")
def aio_blob(trust_session_ca):
    """azure-storage-blob's aio module, imported once the session CA is trusted: aiohttp builds its
    default TLS context (which adlfs's clients use) when first imported."""
    return pytest.importorskip("azure.storage.blob.aio")


@pytest.fixture(scope="module")
def azurite(session_ca):
    with Azurite(session_ca) as azurite:
        yield azurite


@pytest.fixture
def credential(idp):
    app, account = signed_in_app(idp, scopes=[STORAGE_SCOPE])
    return AsyncNbauthCredential(app, account=account)


def test_the_aio_blob_client_writes_and_reads_with_the_async_credential(aio_blob, azurite, credential, idp):
    async def main():
        async with credential, aio_blob.BlobServiceClient(azurite.account_url, credential=credential) as service:
            container = service.get_container_client("aio")
            await container.create_container()
            await container.upload_blob("rain.csv", CSV)
            return await (await container.download_blob("rain.csv")).readall()
    idp.reset_stats()
    assert asyncio.run(main()) == CSV
    assert idp.token_log() == []  # the token signed in with, from the cache


def test_adlfs_and_pandas_read_abfs_urls_with_the_async_credential(aio_blob, azurite, credential):
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("adlfs")

    async def upload():
        async with aio_blob.BlobServiceClient(azurite.account_url, credential=credential) as service:
            await service.get_container_client("frames").create_container()
            await service.get_blob_client("frames", "rain.csv").upload_blob(CSV)
    asyncio.run(upload())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # adlfs takes the credential as it is, without a warning
        frame = pandas.read_csv("abfs://frames/rain.csv", storage_options={
            "account_name": ACCOUNT, "account_host": azurite.account_host, "credential": credential})
    assert frame.to_dict("list") == {"city": ["Bergen", "Cairo"], "rain_mm": [2250, 18]}
