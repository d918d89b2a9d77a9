"""The witness over HTTP: a small WSGI application and a single-threaded server for it.

Only `POST <prefix>/add-checkpoint` exists (C2SP tlog-witness); every other path is 404 and
every other method 405. One request at a time: the witness's decisions are sequential anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from pollwatch.ledger.witness import MAX_BODY_BYTES, Witness, WitnessAnswer

_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
}
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def witness_app(witness: Witness, prefix: str = "") -> Callable[..., Iterable[bytes]]:
    path = prefix.rstrip("/") + "/add-checkpoint"

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != path:
            answer = WitnessAnswer(404, b"not found\n")
        elif environ.get("REQUEST_METHOD") != "POST":
            answer = WitnessAnswer(405, b"use POST\n")
        else:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY_BYTES:
                answer = WitnessAnswer(413, b"request body too large or without length\n")
            else:
                answer = witness.add_checkpoint(environ["wsgi.input"].read(length))
        headers = [("Content-Type", answer.content_type), ("Content-Length", str(len(answer.body)))]
        if answer.status == 405:
            headers.append(("Allow", "POST"))
        start_response(f"{answer.status} {_REASONS[answer.status]}", headers)
        return [answer.body]

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_witness_server(witness: Witness, host: str, port: int, prefix: str = "") -> WSGIServer:
    """A server bound to host:port (port 0: a free one, see `server_port`)."""
    return make_server(host, port, witness_app(witness, prefix), handler_class=_QuietHandler)
