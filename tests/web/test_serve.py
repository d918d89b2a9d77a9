"""`pollwatch serve`: the production server answers pages, the API and static files, and
stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


def _run(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)


@pytest.mark.slow
def test_serve_answers_the_site_the_api_and_static_files(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "POLLWATCH_DATA_DIR": str(tmp_path)}
    env.pop("POLLWATCH_DATABASE_URL", None)
    env.pop("POLLWATCH_DEBUG", None)  # production: Django serves no static files itself
    pollwatch = str(Path(sys.executable).with_name("pollwatch"))
    _run([pollwatch, "migrate", "--verbosity", "0"], env)
    server = subprocess.Popen(
        [pollwatch, "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                status, body, kind = _get(f"http://127.0.0.1:{port}/api/v1/elections")
                break
            except OSError:
                assert time.monotonic() < deadline, "pollwatch serve did not answer in 60 s"
                time.sleep(0.3)
        assert status == 200 and kind.startswith("application/json")
        assert b'"items"' in body or body.startswith(b"[")
        status, body, kind = _get(f"http://127.0.0.1:{port}/")
        assert status == 200 and kind.startswith("text/html") and b"pollwatch" in body.lower()
        # Static files come from the collected copy, served by the server itself.
        assert (tmp_path / "static" / "pollwatch" / "pollwatch.css").is_file()
        status, body, kind = _get(f"http://127.0.0.1:{port}/static/pollwatch/pollwatch.css")
        assert status == 200 and kind.startswith("text/css") and len(body) > 100
        status, _, _ = _get(f"http://127.0.0.1:{port}/static/pollwatch/no-such-file.css")
        assert status == 404
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output


def test_serve_refuses_nonsense_sizes(tmp_path: Path) -> None:
    env = {**os.environ, "POLLWATCH_DATA_DIR": str(tmp_path)}
    pollwatch = str(Path(sys.executable).with_name("pollwatch"))
    result = subprocess.run(
        [pollwatch, "serve", "--workers", "0"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "--workers and --threads must be at least 1" in result.stderr
