"""Real HTTP servers for tests, on loopback only, each stopped by its context manager.

``transformers_serve(folder)`` runs ``transformers serve FOLDER --host 127.0.0.1 --port P
--device cpu`` as a subprocess (offline, on a free port), waits for ``/health`` and yields
a ``RunningServer``; leaving the ``with`` block terminates it (then kills it after 10 s).

``fault_proxy(upstream)`` puts a small HTTP proxy (standard library, in a thread) in front
of a server. A script of actions is used up one per request: ``"500"``, ``"429"`` or
any other status code answers that status with a JSON error body; ``"drop"`` closes the
connection without a response; ``"hang"`` waits ``hang_s`` seconds and then drops;
``"forward"`` passes the request on. Once the script is used up, ``default`` applies.
Every request is recorded (path, parsed JSON body, action), so a test can count what
reached the proxy and inspect what the server was sent.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HOST = "127.0.0.1"
_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade", "host", "content-length",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class RunningServer:
    root: str  # http://127.0.0.1:P
    log: Path  # the server's stdout and stderr

    @property
    def base_url(self) -> str:
        return self.root + "/v1"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _healthy(root: str) -> bool:
    try:
        with urllib.request.urlopen(root + "/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        return False


@contextlib.contextmanager
def transformers_serve(
    folder: Path | str, *, log_dir: Path | str | None = None, startup_timeout: float = 60.0,
    extra_args: tuple[str, ...] = (),
) -> Iterator[RunningServer]:
    """Serve ``folder`` with ``transformers serve`` on a free loopback port until the block ends."""
    port = free_port()
    log_dir = Path(log_dir) if log_dir is not None else Path(folder).parent
    log_path = log_dir / f"transformers-serve-{port}.log"
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_HUB_DISABLE_UPDATE_CHECK="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "2"),
    )
    command = [
        sys.executable, "-m", "transformers.cli.transformers", "serve", str(folder),
        "--host", HOST, "--port", str(port), "--device", "cpu", *extra_args,
    ]
    root = f"http://{HOST}:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = RunningServer(root=root, log=log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while not _healthy(root):
            if process.poll() is not None:
                raise RuntimeError(
                    f"transformers serve exited with code {process.returncode} before /health "
                    f"answered; log tail:\n{server.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"transformers serve did not answer /health within {startup_timeout:g} s; "
                    f"log tail:\n{server.log_tail()}"
                )
            time.sleep(0.25)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@dataclass
class ProxyRequest:
    path: str
    body: Any  # the parsed JSON body, or the raw bytes when it is not JSON
    action: str


@dataclass
class FaultProxy:
    """The running proxy: its URLs, its script and the log of what it received."""

    root: str
    script: list[str]
    default: str = "forward"
    hang_s: float = 5.0
    requests: list[ProxyRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return self.root + "/v1"

    def next_action(self) -> str:
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    def record(self, entry: ProxyRequest) -> None:
        with self.lock:
            self.requests.append(entry)

    def chat_requests(self) -> list[ProxyRequest]:
        with self.lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]


def _make_handler(proxy: FaultProxy, upstream: str, upstream_timeout: float):
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _handle(self) -> None:
            raw = self._body()
            try:
                parsed: Any = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw
            action = proxy.next_action()
            proxy.record(ProxyRequest(path=self.path, body=parsed, action=action))
            if action == "forward":
                self._forward(raw)
            elif action in ("drop", "hang"):
                if action == "hang":
                    time.sleep(proxy.hang_s)
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
            else:
                status = int(action)
                payload = json.dumps({"error": {"message": f"injected HTTP {status}", "code": status}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(payload)

        def _forward(self, raw: bytes) -> None:
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=upstream_timeout)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                connection.request(self.command, self.path, body=raw or None, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            finally:
                connection.close()

        do_GET = _handle
        do_POST = _handle

    return Handler


@contextlib.contextmanager
def fault_proxy(
    upstream: str, script: list[str] | tuple[str, ...] = (), *, default: str = "forward",
    hang_s: float = 5.0, upstream_timeout: float = 60.0,
) -> Iterator[FaultProxy]:
    """A fault-injecting proxy to ``upstream`` (its root URL) on a free loopback port."""
    for action in [*script, default]:
        if action not in ("forward", "drop", "hang") and not (action.isdigit() and len(action) == 3):
            raise ValueError(f"unknown proxy action {action!r}; use forward, drop, hang or a status code")
    proxy = FaultProxy(root="", script=list(script), default=default, hang_s=hang_s)
    server = ThreadingHTTPServer((HOST, 0), _make_handler(proxy, upstream, upstream_timeout))
    server.daemon_threads = True
    proxy.root = f"http://{HOST}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass
class StandInRouter:
    """A stand-in for the Hub's Inference Providers router: its URLs and what it received."""

    root: str
    replies: list[str]
    requests: list[dict[str, Any]] = field(default_factory=list)  # {"path", "authorization", "body"}
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return self.root + "/v1"

    def chat_bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r["body"] for r in self.requests if r["path"].endswith("/chat/completions")]


@contextlib.contextmanager
def stand_in_router(replies: list[str] | tuple[str, ...] = ("A",),
                    respond: Callable[[dict[str, Any]], str | None] | None = None) -> Iterator[StandInRouter]:
    """An OpenAI-compatible chat server on a free loopback port, standing in for the router.

    Like many providers it ignores ``n``: each request gets one choice, the next text of
    ``replies`` (cycled), with a ``usage``; a request without ``Authorization: Bearer ...``
    gets HTTP 401, as from the router. ``GET /v1/models`` lists nothing. ``respond(body)``,
    when given, chooses the text from the request (``None``: the next of ``replies``).
    """
    router = StandInRouter(root="", replies=list(replies))
    counter = iter(range(10**9))

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._send(200, {"object": "list", "data": []})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            authorization = self.headers.get("Authorization") or ""
            with router.lock:
                router.requests.append({"path": self.path, "authorization": authorization, "body": body})
                index = next(counter)
            if not authorization.startswith("Bearer ") or len(authorization) <= len("Bearer "):
                self._send(401, {"error": {"message": "Invalid credentials in Authorization header"}})
                return
            text = respond(body) if respond is not None else None
            if text is None:
                text = router.replies[index % len(router.replies)]
            self._send(200, {
                "id": f"chatcmpl-{index}", "object": "chat.completion", "created": 0, "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
            })

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    router.root = f"http://{HOST}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield router
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
