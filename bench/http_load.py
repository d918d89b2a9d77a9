"""A closed-loop HTTP/1.1 load generator that costs the machine little.

Requests are built before the run (bytes ready to write); during the run, each client is a
coroutine on one asyncio loop holding one keep-alive connection, sending its next request as
soon as the previous answer has arrived. The load is bounded by the number of clients — never
queued without limit — and the generator's own CPU per request is a small fraction of the
server's, so the figures describe the server.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Outcome:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, answered requests
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # answers outside `ok`, failed connections
    samples: list[str] = field(default_factory=list)  # the first few failures, for the report


def request_bytes(
    method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def wait_for_port(port: int, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port} after {seconds:.0f} s")


def run(ports: Sequence[int], per_client: Sequence[Sequence[bytes]], ok: frozenset[int]) -> Outcome:
    """Send each client's requests in order, client i to ports[i % len(ports)]."""
    outcome = Outcome()
    started = time.perf_counter()
    asyncio.run(_all(ports, per_client, ok, outcome))
    outcome.seconds = time.perf_counter() - started
    return outcome


async def _all(
    ports: Sequence[int], per_client: Sequence[Sequence[bytes]], ok: frozenset[int], out: Outcome
) -> None:
    await asyncio.gather(
        *(
            _client(ports[index % len(ports)], requests, ok, out)
            for index, requests in enumerate(per_client)
        )
    )


async def _client(port: int, requests: Sequence[bytes], ok: frozenset[int], out: Outcome) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    for raw in requests:
        start = time.perf_counter()
        try:
            if writer is None or reader is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status, length, closing = _parse_head(head)
            body = await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            _fail(out, f"{type(error).__name__}: {error}")
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        out.latencies.append(time.perf_counter() - start)
        out.statuses[status] = out.statuses.get(status, 0) + 1
        if status not in ok:
            _fail(out, f"{status}: {body[:300]!r}")
        if closing:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, closing = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            closing = True
    return status, length, closing


def _fail(out: Outcome, message: str) -> None:
    out.failures.append(message)
    if len(out.samples) < 5:
        out.samples.append(message)
