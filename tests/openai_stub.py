"""A stand-in OpenAI-compatible HTTP server on 127.0.0.1 for tests: real HTTP, scripted answers.

`responder(request_json) -> str` returns the assistant text for each chat completion (one choice, or `n`
choices with `honour_n=True`); every request is recorded in `server.requests`. Serves GET /v1/models and
POST /v1/chat/completions; with `embed=`, POST /v1/embeddings too: `embed(request_json) -> (status, body,
content_type)` answers it as given (a dict is sent as JSON, NaN and Infinity included), so a test can play an
endpoint that fails in any way.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[dict[str, Any]], str]
EmbedResponder = Callable[[dict[str, Any]], tuple[int, "dict[str, Any] | str | bytes", str]]


def embeddings_body(vectors: list[list[float]], model: str = "stub-embedder") -> dict[str, Any]:
    """An OpenAI embeddings response holding `vectors` (row i answers input i)."""
    return {
        "object": "list",
        "model": model,
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }


class _Handler(BaseHTTPRequestHandler):
    server: _StubServer

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, code: int, body: dict[str, Any] | str | bytes, content_type: str = "application/json") -> None:
        text = body if isinstance(body, bytes | str) else json.dumps(body)
        data = text if isinstance(text, bytes) else text.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, {"object": "list", "data": [{"id": self.server.model, "object": "model"}]})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        req = json.loads(self.rfile.read(length) or b"{}")
        if self.server.embed is not None and self.path.rstrip("/").endswith("/embeddings"):
            with self.server.lock:
                self.server.requests.append(req)
            self._send(*self.server.embed(req))
            return
        if self.server.responder is None or not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        with self.server.lock:
            self.server.requests.append(req)
        n = int(req.get("n") or 1) if self.server.honour_n else 1
        texts = [self.server.responder(req) for _ in range(n)]
        self._send(
            200,
            {
                "id": f"chatcmpl-{len(self.server.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": req.get("model", self.server.model),
                "choices": [
                    {"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    for i, text in enumerate(texts)
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
        )


class _StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, responder: Responder | None, model: str, honour_n: bool = False, embed: EmbedResponder | None = None
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.responder = responder
        self.embed = embed
        self.model = model
        self.honour_n = honour_n
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@contextmanager
def openai_stub(
    responder: Responder | None,
    model: str = "stub-model",
    honour_n: bool = False,
    embed: EmbedResponder | None = None,
) -> Iterator[_StubServer]:
    """Serve `responder` on 127.0.0.1; with `honour_n`, a request's `n` gets n choices (one responder call each);
    with `embed`, /v1/embeddings answers what it returns. A None `responder` serves no chat completions."""
    server = _StubServer(responder, model, honour_n, embed)
    # a short poll interval: shutdown() returns at once
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def free_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (for unreachable-endpoint tests)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
