"""`caratzon serve` as a real process: it migrates the embedded database and answers /healthz."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def caratzon_command() -> list[str]:
    script = Path(sys.executable).with_name("caratzon")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from caratzon_cli.main import main; main()"]


@pytest.mark.slow
def test_serve_answers_healthz(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARATZON_")}
    env.update(CARATZON_DATA_DIR=str(tmp_path / "data"), CARATZON_PASSWORD_HASHING="fast")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*caratzon_command(), "serve", "--port", str(port), "--threads", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        status, body = None, b""
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"serve exited with {proc.returncode}:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    status, body = response.status, response.read()
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        assert status == 200, f"no answer within {STARTUP_TIMEOUT} s:\n{log.read_text()}"
        assert json.loads(body)["status"] == "ok"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    output = log.read_text()
    assert f"http://127.0.0.1:{port}/" in output
    assert "Database is at revision" in output
    assert (tmp_path / "data" / "caratzon.sqlite3").exists()
