"""A loopback HTTP server for tests: files with Range support, JSON apps, injected faults.

It binds 127.0.0.1 on an ephemeral port, counts the body bytes it sends per path (so tests
can show that a windowed read moved a small part of a file), records the requests it got,
and misbehaves on demand the way real archives do: slow answers, 5xx, HTML error pages,
invalid JSON, bodies shorter than their Content-Length, truncated files, vanished files.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

# slow: answer after a delay; status: answer with an error status; html: an HTML error page
# with status 200; badjson: invalid JSON; truncate: the file (or body) is shorter than it
# should be, consistently; wrong_length: Content-Length promises more than is sent; reset:
# close the connection without an answer.
FAULT_KINDS = ("slow", "status", "html", "badjson", "truncate", "wrong_length", "reset")

HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>The proxy could not reach the archive.</p></body></html>"
)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body or b"{}")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, document, status: int = 200) -> Response:
        return cls(status, json.dumps(document).encode(), {"Content-Type": "application/json"})


@dataclass
class Fault:
    kind: str
    times: int | None = None  # None: every request
    delay: float = 5.0  # for "slow"
    status: int = 500  # for "status"
    keep: float = 0.5  # for "truncate" and "wrong_length": the share of the body sent


App = Callable[[Request], Response]


class LoopbackServer:
    """Serve files and apps on 127.0.0.1; use as a context manager or start()/stop()."""

    def __init__(self) -> None:
        self.files: dict[str, Path] = {}
        self.apps: list[tuple[str, App]] = []
        self.faults: dict[str, Fault] = {}
        self.bytes_sent: Counter[str] = Counter()
        self.requests: list[Request] = []
        self.require_bearer: str | None = None  # token the file routes demand, if any
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- configuration -------------------------------------------------------------------------
    def serve_file(self, url_path: str, file_path: str | os.PathLike) -> str:
        self.files[url_path] = Path(file_path)
        return self.url + url_path

    def mount(self, prefix: str, app: App) -> None:
        self.apps.append((prefix, app))

    def inject(self, path: str, kind: str, **kwargs) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(kind)
        self.faults[path] = Fault(kind, **kwargs)

    def clear(self) -> None:
        self.faults.clear()
        self.bytes_sent.clear()
        self.requests.clear()

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            fault = self.faults.get(path)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[path]
            return fault

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> LoopbackServer:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        serve = self._server.serve_forever
        self._thread = threading.Thread(target=serve, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


_RANGE = re.compile(r"bytes=(.+)")


def parse_ranges(header: str | None, size: int) -> list[tuple[int, int]] | None:
    """Inclusive byte ranges of a Range header (None: no or unparseable header)."""
    match = _RANGE.fullmatch((header or "").strip())
    if not match:
        return None
    ranges = []
    for part in match.group(1).split(","):
        first, _, last = part.strip().partition("-")
        if first == "":
            start, end = max(size - int(last), 0), size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        if start > end or start >= size:
            continue
        ranges.append((start, end))
    return ranges


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_owner: LoopbackServer

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    # -- dispatch ------------------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        owner = self.server_owner
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method, parts.path, parse_qs(parts.query), {k: v for k, v in self.headers.items()}, body
        )
        with owner._lock:
            owner.requests.append(request)
        fault = owner.take_fault(parts.path)
        if fault is not None:
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind == "reset":
                self.close_connection = True
                return
            elif fault.kind == "status":
                return self._send(Response(fault.status, b"injected failure"), method)
            elif fault.kind == "html":
                return self._send(
                    Response(200, HTML_ERROR_PAGE, {"Content-Type": "text/html"}), method
                )
            elif fault.kind == "badjson":
                return self._send(
                    Response(
                        200,
                        b'{"type": "FeatureCollection", "feat',
                        {"Content-Type": "application/json"},
                    ),
                    method,
                )
        if parts.path in owner.files:
            return self._send_file(owner.files[parts.path], method, fault)
        for prefix, app in owner.apps:
            if parts.path.startswith(prefix):
                return self._send(app(request), method, fault)
        self._send(Response(404, b"not found"), method)

    def _send(self, response: Response, method: str, fault: Fault | None = None) -> None:
        body = response.body
        declared = len(body)
        if fault is not None and fault.kind == "truncate":
            body = body[: int(len(body) * fault.keep)]
            declared = len(body)
        if fault is not None and fault.kind == "wrong_length":
            # Content-Length announces the whole body; the connection drops part-way.
            body = body[: int(len(body) * fault.keep)]
            self.close_connection = True
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        if method != "HEAD":
            self._write(body)

    def _write(self, body: bytes) -> None:
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            return
        with self.server_owner._lock:
            self.server_owner.bytes_sent[urlsplit(self.path).path] += len(body)

    def _send_file(self, path: Path, method: str, fault: Fault | None) -> None:
        owner = self.server_owner
        wanted = owner.require_bearer
        if wanted is not None and self.headers.get("Authorization") != f"Bearer {wanted}":
            return self._send(Response(401, b"Unauthorized"), method)
        if not path.exists():
            return self._send(Response(404, b"no such file"), method)
        data = path.read_bytes()
        if fault is not None and fault.kind == "truncate":
            # The file looks shorter than it is: a copy that broke off half-way.
            data, fault = data[: int(len(data) * fault.keep)], None
        size = len(data)
        ranges = parse_ranges(self.headers.get("Range"), size)
        headers = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        if ranges is None:
            return self._send(Response(200, data, headers), method, fault)
        if not ranges:
            return self._send(Response(416, b"", {"Content-Range": f"bytes */{size}"}), method)
        if len(ranges) == 1:
            start, end = ranges[0]
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            return self._send(Response(206, data[start : end + 1], headers), method, fault)
        boundary = "LOOPBACKBOUNDARY"
        chunks = []
        for start, end in ranges:
            chunks.append(
                f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
                f"Content-Range: bytes {start}-{end}/{size}\r\n\r\n".encode()
                + data[start : end + 1]
                + b"\r\n"
            )
        chunks.append(f"--{boundary}--\r\n".encode())
        headers["Content-Type"] = f"multipart/byteranges; boundary={boundary}"
        self._send(Response(206, b"".join(chunks), headers), method, fault)
