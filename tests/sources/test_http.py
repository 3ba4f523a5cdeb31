"""Retries, time limits, verified atomic downloads and redaction in sources/http.py."""

from __future__ import annotations

import hashlib
import time

import pytest
from servers.http_server import LoopbackServer, Response

from calvingfronts.sources import http
from calvingfronts.sources.http import ArchiveError, DownloadError, HttpSettings

FAST = HttpSettings(timeout=1.0, retries=2, backoff=0.01)
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture
def server(tmp_path):
    source = tmp_path / "product.zip"
    source.write_bytes(PAYLOAD)
    with LoopbackServer() as s:
        s.serve_file("/product.zip", source)
        s.mount("/api", lambda request: Response.json({"ok": True}))
        yield s


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_verifies_and_writes_atomically(server, tmp_path):
    target = tmp_path / "out" / "product.zip"
    with http.make_session(FAST) as session:
        size = http.download(
            session,
            server.url + "/product.zip",
            target,
            FAST,
            expected_size=len(PAYLOAD),
            expected_md5=hashlib.md5(PAYLOAD).hexdigest(),
        )
    assert size == len(PAYLOAD) and target.read_bytes() == PAYLOAD
    assert leftovers(target.parent) == ["product.zip"]


@pytest.mark.parametrize(
    "kind, kwargs, message",
    [
        ("wrong_length", {}, "transfer broke off|Content-Length"),
        ("truncate", {}, "archive lists"),
        ("html", {}, "HTML page"),
        ("status", {"status": 500}, "HTTP 500"),
        ("status", {"status": 404}, "HTTP 404"),
        ("slow", {"delay": 3}, "timed out|Timeout"),
        ("reset", {}, "request failed"),
    ],
)
def test_download_faults_leave_no_file(server, tmp_path, kind, kwargs, message):
    server.inject("/product.zip", kind, **kwargs)
    target = tmp_path / "out" / "product.zip"
    with http.make_session(FAST) as session, pytest.raises(DownloadError, match=message) as e:
        http.download(
            session, server.url + "/product.zip", target, FAST, expected_size=len(PAYLOAD)
        )
    assert leftovers(target.parent) == []  # neither the file nor a .part
    print(f"\ndownload fault {kind}: {e.value}")


def test_download_rejects_a_wrong_checksum(server, tmp_path):
    target = tmp_path / "out" / "product.zip"
    with http.make_session(FAST) as session, pytest.raises(DownloadError, match="MD5"):
        http.download(session, server.url + "/product.zip", target, FAST, expected_md5="0" * 32)
    assert not target.exists()


def test_download_retries_transient_failures(server, tmp_path):
    server.inject("/product.zip", "wrong_length", times=1)  # broken mid-body, then fine
    target = tmp_path / "out" / "product.zip"
    with http.make_session(FAST) as session:
        http.download(
            session, server.url + "/product.zip", target, FAST, expected_size=len(PAYLOAD)
        )
    assert target.read_bytes() == PAYLOAD
    server.inject("/product.zip", "status", status=503, times=2)  # busy twice, then fine
    with http.make_session(FAST) as session:
        http.download(session, server.url + "/product.zip", target, FAST)


def test_client_errors_are_not_retried(server, tmp_path):
    server.inject("/product.zip", "status", status=404)
    started = time.monotonic()
    patient = HttpSettings(timeout=1, retries=3, backoff=2)
    with http.make_session(patient) as session, pytest.raises(DownloadError, match="404"):
        http.download(session, server.url + "/product.zip", tmp_path / "x", FAST)
    assert time.monotonic() - started < 2
    assert len(server.requests) == 1


def test_backoff_grows_exponentially():
    assert http.backoff_delays(4, 0.5) == [0.5, 1.0, 2.0, 4.0]


def test_request_json_errors_are_clear(server):
    with http.make_session(FAST) as session:
        assert http.request_json(session, "GET", server.url + "/api", FAST, "probe") == {"ok": True}
        for kind, message in [("badjson", "invalid JSON"), ("html", "HTML page")]:
            server.inject("/api", kind, times=1)
            with pytest.raises(ArchiveError, match=message):
                http.request_json(session, "GET", server.url + "/api", FAST, "probe")
        server.inject("/api", "status", status=502)
        with pytest.raises(ArchiveError, match="probe: HTTP 502"):
            http.request_json(session, "GET", server.url + "/api", FAST, "probe")


def test_redaction_hides_signatures_and_tokens():
    url = "https://account.blob.core.windows.net/c/a.tif?sv=2021&sig=SECRET"
    assert http.redact_url(url) == "https://account.blob.core.windows.net/c/a.tif?<redacted>"
    assert http.redact_url("https://user:pw@host/x") == "https://host/x"
    text = f"failed GET {url} with Authorization: Bearer abc.def-ghi and token xyz123"
    cleaned = http.redact(text, ("xyz123",))
    assert "SECRET" not in cleaned and "abc.def-ghi" not in cleaned and "xyz123" not in cleaned


def test_authorization_is_dropped_on_redirect_to_another_host(tmp_path):
    source = tmp_path / "f.bin"
    source.write_bytes(b"data")
    with LoopbackServer() as storage, LoopbackServer() as archive:
        storage.serve_file("/f.bin", source)
        # "localhost" is another host name than 127.0.0.1: like a pre-signed storage URL.
        other = storage.url.replace("127.0.0.1", "localhost") + "/f.bin"
        archive.mount("/same", lambda r: Response(302, b"", {"Location": archive.url + "/f"}))
        archive.mount("/away", lambda r: Response(302, b"", {"Location": other}))
        archive.serve_file("/f", source)
        headers = {"Authorization": "Bearer TOKEN"}
        with http.make_session(FAST, headers=headers) as session:
            session.get(archive.url + "/same", timeout=2).raise_for_status()
            session.get(archive.url + "/away", timeout=2).raise_for_status()
        assert archive.requests[-1].headers.get("Authorization") == "Bearer TOKEN"
        assert "Authorization" not in storage.requests[-1].headers


def test_gdal_env_sets_http_behaviour_in_one_place():
    env = http.gdal_http_env(HttpSettings(timeout=7.5, retries=3, backoff=0.5))
    assert env["GDAL_DISABLE_READDIR_ON_OPEN"] == "EMPTY_DIR"
    assert env["GDAL_HTTP_MAX_RETRY"] == "3" and env["GDAL_HTTP_TIMEOUT"] == "8"
    assert ".tif" in env["CPL_VSIL_CURL_ALLOWED_EXTENSIONS"]
    assert http.vsi_path("https://x/a.tif") == "/vsicurl/https://x/a.tif"
    assert http.vsi_path("/data/a.tif") == "/data/a.tif"
