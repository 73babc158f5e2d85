"""Helpers for the web tests (imported by them and by conftest.py): a real ``robocorrect serve`` in a subprocess, and a real headless Chromium
(Debian's /usr/bin/chromium driven by Playwright; no browser is downloaded)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(tmp: Path, *args: str, host: str = "127.0.0.1", timeout_s: float = 180.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start ``robocorrect serve`` (this checkout) on a free port; yields (base URL, process)."""
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    port = free_port()
    env = {**os.environ, "ROBOCORRECT_HOME": str(tmp / "home"), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("ROBOCORRECT_WEB_TOKEN", None)
    cmd = [sys.executable, "-m", "agent.cli", "serve", "--host", host, "--port", str(port), "--log", str(tmp / "episodes"), *args]
    out = open(tmp / "serve.log", "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        t0 = time.time()
        while "serving on" not in (tmp / "serve.log").read_text():
            if proc.poll() is not None or time.time() - t0 > timeout_s:
                raise AssertionError(f"robocorrect serve did not start:\n{(tmp / 'serve.log').read_text()}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        out.close()


