"""HTTP at the edge of the live sources: retries, time limits, verified downloads, GDAL reads.

Archives fail in ordinary ways: a busy server answers 503 or 429, a proxy returns an HTML
error page with status 200, a connection drops half-way through a file. Everything here
turns those into either a retry (transient) or an :class:`ArchiveError` that says what went
wrong, and a download lands on disk only after it has been checked, so a half-written file
can never be mistaken for a product by a later run.

Remote rasters are read through GDAL's ``/vsicurl/`` with HTTP range requests; the GDAL
options for that live in :func:`gdal_http_env` so the STAC and ASF sources read alike.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import Retry

from calvingfronts.raster_io import atomic_path

log = logging.getLogger(__name__)

# Statuses worth asking again: the server is busy, overloaded or briefly broken.
RETRY_STATUSES = (429, 500, 502, 503, 504)
DEFAULT_TIMEOUT = 60.0  # seconds to connect, and between bytes of an answer
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF = 2.0  # seconds; waits grow as backoff * 2**attempt
DEFAULT_DOWNLOAD_TIME_LIMIT = 3 * 3600.0  # a whole download, however fast bytes trickle in
USER_AGENT = "calvingfronts (https://github.com/calvingfronts)"
_CHUNK = 1 << 20


class ArchiveError(RuntimeError):
    """An archive that could not be asked or did not answer usefully (message is redacted)."""


class DownloadError(ArchiveError):
    """A download that failed or did not pass its checks; nothing was written."""

    def __init__(self, message: str, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


# The options HttpSettings reads; every source that talks HTTP accepts them.
HTTP_OPTIONS = frozenset({"timeout", "retries", "backoff", "download_time_limit"})


@dataclass(frozen=True)
class HttpSettings:
    """How patiently to talk to an archive, read from a source's options."""

    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_BACKOFF
    download_time_limit: float = DEFAULT_DOWNLOAD_TIME_LIMIT

    @classmethod
    def from_options(cls, options: dict) -> HttpSettings:
        return cls(
            timeout=float(options.get("timeout", DEFAULT_TIMEOUT)),
            retries=int(options.get("retries", DEFAULT_RETRIES)),
            backoff=float(options.get("backoff", DEFAULT_BACKOFF)),
            download_time_limit=float(
                options.get("download_time_limit", DEFAULT_DOWNLOAD_TIME_LIMIT)
            ),
        )


# --- redaction: nothing secret may reach a log, an exception or a manifest -------------------

_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/=]+")
_URL = re.compile(r"(?i)\b((?:https?|s3)://[^\s'\"<>]+)")


def redact_url(url: str) -> str:
    """The URL without its query string and credentials: signatures and tokens live there."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = "<redacted>" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with URL queries, bearer tokens and the given secret strings blanked out."""
    text = _URL.sub(lambda m: redact_url(m.group(1)), str(text))
    text = _BEARER.sub(r"\1<redacted>", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


def describe(error: BaseException) -> str:
    """An exception's message with its cause's: rasterio's "Read failed" hides GDAL's reason."""
    message = str(error).replace("See previous exception for details.", "").strip()
    cause = error.__cause__ or error.__context__
    if cause is not None and str(cause).strip() and str(cause) not in message:
        message = f"{message} ({' '.join(str(cause).split())})"
    return message or type(error).__name__


# --- sessions ---------------------------------------------------------------------------------


def retry_policy(retries: int, backoff: float) -> Retry:
    """Retries on connection errors, read timeouts and busy statuses, for every method.

    POST is included because STAC searches and the ASF SearchAPI are read-only even when
    posted. ``raise_on_status=False`` hands the last answer back so the caller can say which
    status it was instead of a bare "max retries exceeded".
    """
    return Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


class _AuthKeepingSession(requests.Session):
    """A session that keeps its Authorization header only on redirects inside trusted domains.

    requests drops the header whenever a redirect changes host; archives such as ASF redirect
    between their own hosts (keep it) and on to pre-signed storage URLs (drop it: the URL is
    the credential there, and sending a token along could even be refused).
    """

    def __init__(self, auth_domains: tuple[str, ...]):
        super().__init__()
        self.auth_domains = tuple(d.lower().lstrip(".") for d in auth_domains)

    def rebuild_auth(self, prepared_request, response):
        new_host = (urlsplit(prepared_request.url).hostname or "").lower()
        old_host = (urlsplit(response.request.url).hostname or "").lower()
        trusted = new_host == old_host or any(
            new_host == d or new_host.endswith("." + d) for d in self.auth_domains
        )
        if not trusted:
            prepared_request.headers.pop("Authorization", None)


def make_session(
    settings: HttpSettings,
    headers: dict[str, str] | None = None,
    auth_domains: tuple[str, ...] = (),
) -> requests.Session:
    session = _AuthKeepingSession(auth_domains)
    adapter = HTTPAdapter(max_retries=retry_policy(settings.retries, settings.backoff))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    session.headers.update(headers or {})
    return session


# --- JSON -------------------------------------------------------------------------------------


def looks_like_html(content_type: str | None, head: bytes) -> bool:
    """An HTML page where data was expected: error and login pages often come with 200."""
    if content_type and "html" in content_type.lower():
        return True
    start = head.lstrip()[:15].lower()
    return start.startswith(b"<!doctype html") or start.startswith(b"<html")


def parse_json_response(response: requests.Response, what: str) -> object:
    """The body of ``response`` as JSON, or an ArchiveError that says what came instead."""
    url = redact_url(response.url or "")
    if response.status_code >= 400:
        raise ArchiveError(
            f"{what}: HTTP {response.status_code} {response.reason} from {url}: "
            f"{redact(response.text[:200])!r}"
        )
    body = response.content
    if looks_like_html(response.headers.get("Content-Type"), body[:64]):
        raise ArchiveError(f"{what}: {url} answered with an HTML page, not JSON")
    try:
        return json.loads(body)
    except ValueError as error:
        raise ArchiveError(f"{what}: {url} answered with invalid JSON ({error})") from None


def request_json(
    session: requests.Session,
    method: str,
    url: str,
    settings: HttpSettings,
    what: str,
    **kwargs,
) -> object:
    """One JSON request with the session's retries and the per-request time limit."""
    try:
        response = session.request(method, url, timeout=settings.timeout, **kwargs)
    except requests.RequestException as error:
        raise ArchiveError(
            f"{what}: request to {redact_url(url)} failed: {redact(error)}"
        ) from None
    return parse_json_response(response, what)


# --- verified downloads -----------------------------------------------------------------------


def backoff_delays(retries: int, backoff: float) -> list[float]:
    """Waits before each retry: exponential, so a struggling server gets room to recover."""
    return [backoff * 2**attempt for attempt in range(retries)]


def check_download(
    received: int,
    content_length: int | None,
    expected_size: int | None,
    digest: str | None,
    expected_md5: str | None,
) -> None:
    """Raise DownloadError when what arrived is not what was announced or catalogued."""
    if content_length is not None and received != content_length:
        raise DownloadError(f"received {received} bytes but Content-Length said {content_length}")
    if expected_size is not None and received != expected_size:
        raise DownloadError(f"received {received} bytes but the archive lists {expected_size}")
    if expected_md5 and digest and digest.lower() != expected_md5.lower():
        raise DownloadError(f"MD5 {digest} does not match the archive's {expected_md5}")


def _download_once(
    session: requests.Session,
    url: str,
    path: Path,
    settings: HttpSettings,
    expected_size: int | None,
    expected_md5: str | None,
) -> int:
    """One attempt. Failures before the body starts were already retried by the session
    (connection, timeout, busy status), so only failures in or after the body are marked
    retryable here; otherwise retries would multiply.
    """
    started = time.monotonic()
    try:
        response = session.get(url, stream=True, timeout=settings.timeout)
    except requests.RequestException as error:
        raise DownloadError(f"request failed: {redact(error)}", retryable=False) from None
    with response:
        if response.status_code >= 400:
            raise DownloadError(f"HTTP {response.status_code} {response.reason}", False)
        length_header = response.headers.get("Content-Length")
        content_length = int(length_header) if length_header else None
        md5 = hashlib.md5()
        received = 0
        try:
            with atomic_path(path) as tmp, open(tmp, "wb") as handle:
                for index, chunk in enumerate(response.iter_content(_CHUNK)):
                    if index == 0 and looks_like_html(response.headers.get("Content-Type"), chunk):
                        raise DownloadError("the server sent an HTML page, not the file", False)
                    handle.write(chunk)
                    md5.update(chunk)
                    received += len(chunk)
                    if time.monotonic() - started > settings.download_time_limit:
                        raise DownloadError(
                            f"took longer than {settings.download_time_limit:g} s", False
                        )
                handle.flush()
                check_download(
                    received, content_length, expected_size, md5.hexdigest(), expected_md5
                )
        except requests.RequestException as error:
            raise DownloadError(f"transfer broke off: {redact(error)}") from None
    return received


def download(
    session: requests.Session,
    url: str,
    path: str | Path,
    settings: HttpSettings,
    *,
    expected_size: int | None = None,
    expected_md5: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Download ``url`` to ``path`` atomically after checking it; returns the byte count.

    The session retries failed connections and busy statuses; this loop also retries a
    transfer that broke or came up short mid-body, which urllib3 cannot retry by itself.
    """
    delays = backoff_delays(settings.retries, settings.backoff)
    for attempt in range(len(delays) + 1):
        try:
            return _download_once(session, url, Path(path), settings, expected_size, expected_md5)
        except DownloadError as error:
            if not error.retryable or attempt == len(delays):
                raise DownloadError(
                    f"download of {redact_url(url)} failed: {error}", error.retryable
                ) from None
            log.warning(
                "download of %s failed (%s); retrying in %.1f s",
                redact_url(url),
                error,
                delays[attempt],
            )
            sleep(delays[attempt])
    raise AssertionError("unreachable")


# --- GDAL over HTTP ---------------------------------------------------------------------------


def gdal_http_env(settings: HttpSettings) -> dict[str, str]:
    """GDAL configuration for reading cloud-optimized rasters over HTTP range requests.

    EMPTY_DIR stops GDAL from listing the "directory" of a URL to look for side-car files
    (one wasted request per open, and a 403 on most object stores); the extension list stops
    it from probing ``.aux.xml``/``.ovr`` URLs. Merged ranges cut the request count when
    neighbouring tiles are read.
    """
    retry_delay = max(settings.backoff, 0.1)
    return {
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff,.TIF,.TIFF,.zip,.jp2",
        "GDAL_HTTP_MAX_RETRY": str(settings.retries),
        "GDAL_HTTP_RETRY_DELAY": f"{retry_delay:g}",
        "GDAL_HTTP_RETRY_CODES": ",".join(str(s) for s in RETRY_STATUSES),
        "GDAL_HTTP_TIMEOUT": str(max(1, math.ceil(settings.timeout))),
        "GDAL_HTTP_CONNECTTIMEOUT": str(max(1, math.ceil(settings.timeout))),
        "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
        "GDAL_HTTP_MULTIPLEX": "YES",
        "VSI_CACHE": "TRUE",
        "CPL_VSIL_CURL_CHUNK_SIZE": str(64 * 1024),
    }


def vsi_path(href: str) -> str:
    """The GDAL path of ``href``: remote URLs go through /vsicurl/, local paths stay."""
    if href.startswith(("http://", "https://")):
        return f"/vsicurl/{href}"
    if href.startswith("file://"):
        return href[len("file://") :]
    return href


# Failures of the connection or the server, not of the scene: a later run may succeed.
_TRANSIENT = re.compile(
    r"HTTP (?:response code: ?)?(?:5\d\d|429)\b|timed out|time-?out|connection|"
    r"IncompleteRead|transfer broke off|request failed|temporar",
    re.IGNORECASE,
)


def is_transient(message: str) -> bool:
    """Whether an error message describes a passing fault of the network or the archive."""
    return bool(_TRANSIENT.search(message))
