"""``robocorrect serve`` as a child process, for the web benchmark and the web tests: a free local port, waiting
until the server says it is serving, and stopping it (SIGINT, then kill after 20 s)."""
from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

from hardware.errors import RobocorrectError


class ServeStartError(RobocorrectError):
    """The child ``robocorrect serve`` exited or did not say "serving on" in time; the message ends with its log."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_serving(proc: subprocess.Popen, log: Path, timeout_s: float = 180.0, tail: int = 500) -> float:
    """Block until ``log`` (the child's output) says "serving on"; returns the seconds waited. Raises
    :class:`ServeStartError` with the last ``tail`` characters of the log when the child exits or ``timeout_s``
    passes first."""
    t0 = time.time()
    while "serving on" not in log.read_text():
        if proc.poll() is not None or time.time() - t0 > timeout_s:
            raise ServeStartError(f"robocorrect serve did not start: {log.read_text()[-tail:]}")
        time.sleep(0.2)
    return time.time() - t0


def stop(proc: subprocess.Popen, timeout_s: float = 20.0) -> None:
    """Stop the child as Ctrl-C would; kill it when it has not exited after ``timeout_s``."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
