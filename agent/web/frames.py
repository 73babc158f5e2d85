"""The camera stream: a thread takes JPEG frames from a camera (:mod:`agent.web.cameras`) and hands them to the hub.

Each frame is stamped with the wall-clock time (unix s) of the control tick whose state it shows
(``t_step``: the session's tick listener records every tick; while nothing moves, the render's own start), so
the page can measure *sim step to pixels*: ``t_step`` to the moment the frame is drawn. Frames are packed as
one binary websocket message: 4 bytes big-endian header length, the JSON header, then the JPEG.

Rendering (PyBullet's ER_TINY_RENDERER) takes ~50-110 ms a frame on a busy CPU; the frame rate is what the
CPU allows, up to ``fps``. A world without a camera (``capture`` returns None) streams nothing.
"""
from __future__ import annotations

import json
import logging
import struct
import threading
import time
from typing import Any, Callable, Optional, Protocol

from hardware.base import Robot


class Camera(Protocol):
    """Gives one JPEG frame per call, or None when there is no camera (:mod:`agent.web.cameras`)."""

    def capture(self) -> Optional[bytes]: ...

    def close(self) -> None: ...

logger = logging.getLogger(__name__)


def pack(header: dict[str, Any], jpeg: bytes) -> bytes:
    """One binary message: header length (uint32 big-endian), JSON header, JPEG bytes."""
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack(">I", len(h)) + h + jpeg


def unpack(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The inverse of :func:`pack`."""
    (n,) = struct.unpack(">I", data[:4])
    return json.loads(data[4:4 + n]), data[4 + n:]


def encode_jpeg(rgb: Any, quality: int = 80) -> bytes:
    """RGB (H, W, 3 uint8) -> JPEG bytes."""
    import cv2

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


class FrameStreamer:
    """Renders ``camera`` of ``world`` at ``size`` (w, h px), up to ``fps`` frames per second while
    ``moving()`` is true and ``idle_fps`` otherwise, and calls ``publish(packed_frame)`` from its own thread.
    Register :meth:`on_tick` as a session tick listener."""

    def __init__(self, camera: Camera, robot: Robot, size: tuple[int, int], fps: float, idle_fps: float,
                 moving: Callable[[], bool], publish: Callable[[bytes], None]) -> None:
        self.camera, self.robot, self.size = camera, robot, size
        self.fps, self.idle_fps, self.moving, self.publish = fps, idle_fps, moving, publish
        self.seq = 0
        self.has_camera = True
        self.render_ms: list[float] = []  # the last 200 render + encode times
        self._tick: Optional[tuple[float, int, tuple[float, ...]]] = None
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def on_tick(self, tick: int, state: Any) -> None:
        """Session tick listener: remember when this tick ran (unix s), which tick and where the TCP was (m)."""
        self._tick = (time.time(), tick, tuple(float(v) for v in state.tcp_position))
        if not self._kick.is_set():
            self._kick.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="camera", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.camera.close()

    def poke(self) -> None:
        """Render the next frame now (the scene changed)."""
        self._kick.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            t0 = time.time()
            moving = self.moving()
            try:
                header, jpeg = self.grab(moving)
            except Exception as e:  # noqa: BLE001 - the stream must outlive one bad frame (e.g. mid scene reset)
                logger.warning("camera frame failed: %s: %s", type(e).__name__, e)
                header, jpeg = None, b""
            if header is not None:
                self.publish(pack(header, jpeg))
            period = 1.0 / (self.fps if moving else self.idle_fps)
            wait = period - (time.time() - t0)
            if wait > 0:
                self._kick.clear()
                if moving:
                    self._stop.wait(wait)
                else:  # idle: wake early when a motion starts or the scene changes
                    self._kick.wait(wait)

    def grab(self, moving: bool) -> tuple[Optional[dict[str, Any]], bytes]:
        """Render and encode one frame; (None, b'') when the world has no camera."""
        t0 = time.time()
        last = self._tick
        if moving and last is not None and t0 - last[0] < 1.0:
            t_step, tick, tcp = last
        else:
            t_step, tick, tcp = t0, None, tuple(float(v) for v in self.robot.state().tcp_position)
        w, h = self.size
        jpeg = self.camera.capture()
        if jpeg is None:
            self.has_camera = False
            return None, b""
        t1 = time.time()
        self.seq += 1
        self.render_ms = (self.render_ms + [1000 * (t1 - t0)])[-200:]
        return {"seq": self.seq, "t_step": t_step, "t_sent": t1, "tick": tick, "moving": moving,
                "tcp": [round(v, 4) for v in tcp], "render_ms": round(1000 * (t1 - t0), 1), "w": w, "h": h}, jpeg
