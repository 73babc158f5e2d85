"""Helpers for the web tests (imported by them and by conftest.py): a real ``robocorrect serve`` in a subprocess, and a real headless Chromium
(Debian's /usr/bin/chromium driven by Playwright; no browser is downloaded)."""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from agent.web.process import free_port, stop, wait_serving

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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
        wait_serving(proc, tmp / "serve.log", timeout_s, tail=100_000)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        stop(proc)
        out.close()


