"""Settings of ``robocorrect serve`` (:class:`ServeConfig`) and the web layer's errors."""
from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from typing import Optional

from hardware.errors import RobocorrectError, UsageError

CAMERAS = ("user", "scene", "wrist")
TOKEN_ENV = "ROBOCORRECT_WEB_TOKEN"
MIN_TOKEN_CHARS = 16


class WebError(RobocorrectError):
    """The web server cannot start or serve (port taken, robot cannot be built); the message says what to do."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a bind address or name) only accepts connections from this machine."""
    h = host.strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


@dataclass
class ServeConfig:
    """What ``robocorrect serve`` serves and how.

    ``robot``: 'sim' (the simulated Panda) or a robot config file (TOML, ``hardware/config.py``).
    ``host`` / ``port``: where to listen (default 127.0.0.1:8000: this machine only). ``token``: the secret every
    request must carry (``Authorization: Bearer T``, ``X-Robocorrect-Token`` or ``?token=T``); required when
    ``host`` is not a loopback address; 'auto' draws a random one; default ``$ROBOCORRECT_WEB_TOKEN``.
    ``origins``: browser origins allowed besides the page's own (e.g. 'https://lab.example.org').
    ``seed`` / ``scene``: the table (a random one, or a scene JSON file). ``policy``, ``kb``, ``log``: as for
    ``robocorrect sim`` (memory is off unless ``kb`` is given). ``camera``: the view streamed ('scene', the
    default: facing the robot, the whole table in view, so the robot's left is the image's right; 'user': from
    behind the robot, as the person teaching stands, though the arm hides part of the table; 'wrist'); ``frame_size`` (width, height) px;
    ``fps``: frames per second while the arm moves, ``idle_fps`` while it does not. ``rate``: simulated seconds
    per wall-clock second (1 = real time). ``confirm_wait_s``: seconds a held goal waits for a last correction
    before the episode ends as a success. ``render``: 'process' (a simulated world is mirrored in a child
    process that renders, off the control loop) or 'thread' (``World.render`` in the stream's thread). ``bench``: teaching-benchmark result files to plot
    (``teach_results.json`` or a ``bench teach --json`` output whose last line is the JSON object).
    """

    robot: str = "sim"
    host: str = "127.0.0.1"
    port: int = 8000
    token: Optional[str] = None
    origins: tuple[str, ...] = ()
    seed: int = 0
    scene: Optional[str] = None
    policy: str = "embedded"
    kb: Optional[str] = None
    log: Optional[str] = None
    camera: str = "scene"
    frame_size: tuple[int, int] = (240, 180)
    fps: float = 12.0
    idle_fps: float = 2.0
    rate: float = 1.0
    confirm_wait_s: float = 6.0
    bench: tuple[str, ...] = ()
    speech_min_confidence: float = 0.45
    render: str = "process"
    token_generated: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.token is None:
            self.token = os.environ.get(TOKEN_ENV) or None
        if self.token == "auto":
            self.token, self.token_generated = secrets.token_urlsafe(24), True
        if self.token is not None and (len(self.token) < MIN_TOKEN_CHARS or not self.token.isprintable()
                                       or any(c.isspace() for c in self.token)):
            raise UsageError(f"--token must be at least {MIN_TOKEN_CHARS} printable characters without spaces "
                             "(or 'auto' to draw one)")
        if not is_loopback(self.host) and not self.token:
            raise UsageError(f"refusing to listen on {self.host} without a token: anyone who can reach it could move "
                             f"the robot. Pass --token auto (or --token T, or set ${TOKEN_ENV}), or listen on 127.0.0.1")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--port must be in 0..65535, got {self.port}")
        if self.render not in ("process", "thread"):
            raise UsageError(f"--render must be process or thread, got {self.render!r}")
        if self.camera not in CAMERAS:
            raise UsageError(f"--camera must be one of {', '.join(CAMERAS)}, got {self.camera!r}")
        w, h = self.frame_size
        if not (32 <= w <= 1280 and 32 <= h <= 960):
            raise UsageError(f"--frame-size must be WIDTHxHEIGHT within 32x32..1280x960 px, got {w}x{h}")
        for name, v, lo, hi in (("--fps", self.fps, 0.5, 60), ("--idle-fps", self.idle_fps, 0.1, 60),
                                ("--rate", self.rate, 0.05, 20), ("--confirm-wait", self.confirm_wait_s, 0, 3600)):
            if not lo <= v <= hi:
                raise UsageError(f"{name} must be in [{lo:g}, {hi:g}], got {v:g}")
        for o in self.origins:
            if not (o.startswith("http://") or o.startswith("https://")) or o.endswith("/"):
                raise UsageError(f"--origin must look like https://host[:port] (no trailing slash), got {o!r}")

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def url(self, with_token: bool = True) -> str:
        """The address to open in a browser (with the token in the query when there is one)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        q = f"/?token={self.token}" if with_token and self.token else "/"
        return f"http://{host}:{self.port}{q}"
