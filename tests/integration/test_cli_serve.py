"""`caratzon serve` and `caratzon worker` as real processes: serve migrates the
embedded database, answers /healthz and runs the portal worker; both stop
cleanly on SIGTERM."""

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


def wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], timeout: float = STARTUP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert proc.poll() is None, f"exited with {proc.returncode}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no {text!r} within {timeout} s:\n{log.read_text()}"
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.terminate()
    try:
        return proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARATZON_")}
    env.update(CARATZON_DATA_DIR=str(tmp_path / "data"), CARATZON_PASSWORD_HASHING="fast")
    return env


def caratzon_command() -> list[str]:
    script = Path(sys.executable).with_name("caratzon")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from caratzon_cli.main import main; main()"]


@pytest.mark.slow
def test_serve_answers_healthz(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(tmp_path)
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
        # The portal worker's first run starts at once.
        wait_for(log, "worker: expired 0, warned 0, digests 0, sent 0", proc)
    finally:
        returncode = stop(proc)
    output = log.read_text()
    assert returncode == 0, output  # SIGTERM stops serving (and the worker) cleanly
    assert f"http://127.0.0.1:{port}/" in output
    assert "Database is at revision" in output
    assert "Traceback" not in output
    assert (tmp_path / "data" / "caratzon.sqlite3").exists()


@pytest.mark.slow
def test_worker_runs_until_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*caratzon_command(), "worker", "--interval", "1"], env=clean_env(tmp_path), stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(log, "worker: expired 0", proc)
    finally:
        returncode = stop(proc)
    output = log.read_text()
    assert returncode == 0, output
    assert "SIGTERM received; stopping after the current run" in output
    assert "worker: stopped after" in output
    assert "Traceback" not in output
