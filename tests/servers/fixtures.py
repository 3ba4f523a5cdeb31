"""pytest fixtures that start the loopback archives; import them into tests/conftest.py with

    from servers.fixtures import archive_files, asf_archive, stac_archive  # noqa: F401

(``tests/`` is on ``sys.path`` under pytest's default import mode, so ``servers`` imports.)

Servers listen on 127.0.0.1 with ephemeral ports, start per test and stop after it, so
faults injected by one test never leak into another. The files behind them are written once
per session.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .asf_api import SEARCH_PATH, AsfSearchApi
from .catalogue import asf_features, stac_items
from .http_server import LoopbackServer
from .scenes import ArchiveFiles
from .scenes import archive_files as build_archive_files
from .stac_api import StacApi

# Quick to give up and quick to retry, so fault tests take a second, not minutes.
FAST_HTTP = {"timeout": 2, "retries": 1, "backoff": 0.05}


@dataclass
class StacArchive:
    api: StacApi
    api_server: LoopbackServer
    file_server: LoopbackServer
    files: ArchiveFiles
    items: dict[str, dict]

    @property
    def url(self) -> str:
        return self.api_server.url + "/"

    def options(self, **extra) -> dict:
        """Source options pointing at the loopback API, with impatient HTTP settings."""
        return {"url": self.url, "sign": None, **FAST_HTTP, **extra}

    def publish(self, item_ids) -> None:
        """Put (more of) the catalogue online, as an archive that gains new scenes."""
        wanted = set(item_ids)
        self.api.items = [i for i in self.items.values() if i["id"] in wanted]


@dataclass
class AsfArchive:
    api: AsfSearchApi
    server: LoopbackServer
    files: ArchiveFiles
    token: str

    @property
    def search_url(self) -> str:
        return self.server.url + SEARCH_PATH

    def options(self, download_dir, **extra) -> dict:
        return {
            "search_url": self.search_url,
            "download_dir": str(download_dir),
            **FAST_HTTP,
            **extra,
        }


@pytest.fixture(scope="session")
def archive_files(tmp_path_factory) -> ArchiveFiles:
    return build_archive_files(tmp_path_factory.getbasetemp() / "loopback-archive")


@pytest.fixture
def stac_archive(archive_files):
    with LoopbackServer() as files, LoopbackServer() as api_server:
        api = StacApi(api_server.url)
        api_server.mount("/", api)
        items = stac_items(files, archive_files)
        api.items = list(items.values())
        yield StacArchive(api, api_server, files, archive_files, items)


@pytest.fixture
def asf_archive(archive_files, monkeypatch):
    token = "EDL-test-token-9f8e7d6c5b4a"
    monkeypatch.setenv("EARTHDATA_TOKEN", token)
    with LoopbackServer() as server:
        api = AsfSearchApi()
        server.mount(SEARCH_PATH, api)
        server.require_bearer = token
        api.features = asf_features(server, archive_files)
        yield AsfArchive(api, server, archive_files, token)
