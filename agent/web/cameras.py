"""Where the streamed pixels come from: a camera gives one JPEG frame (or None) per call.

- :class:`WorldCamera`: ``World.render`` in the calling thread (any world with a camera: a real arm's,
  a robot-config simulation). PyBullet holds the interpreter lock while it renders, so this render competes
  with the control loop.
- :class:`MirrorCamera`: for a :class:`sim.world.SimWorld`, a child process holds a copy of the world built
  from the same scene; every frame the parent sends the pose of every body and the position of every joint
  (a few hundred floats, read in well under a millisecond), the child sets them, renders and encodes the
  JPEG. The render then runs on another core without holding the robot process's interpreter lock, so the
  control loop keeps its rate. A new scene is sent when the world loads one.
"""
from __future__ import annotations

import logging
import multiprocessing
import threading
from typing import Any, Optional

logger = logging.getLogger(__name__)


class WorldCamera:
    """Renders ``camera`` of ``world`` at ``size`` (w, h px) in the calling thread."""

    def __init__(self, world: Any, camera: str, size: tuple[int, int]) -> None:
        self.world, self.camera, self.size = world, camera, size

    def capture(self) -> Optional[bytes]:
        from agent.web.frames import encode_jpeg

        fr = self.world.render(self.camera, *self.size)
        return None if fr is None else encode_jpeg(fr["rgb"])

    def close(self) -> None:
        pass


def _state(client: Any) -> list[tuple[int, Any, Any, list[float]]]:
    """(body id, position, orientation, joint positions) of every body of a PyBullet client."""
    out = []
    for i in range(client.getNumBodies()):
        uid = client.getBodyUniqueId(i)
        pos, orn = client.getBasePositionAndOrientation(uid)
        n = client.getNumJoints(uid)
        q = [s[0] for s in client.getJointStates(uid, list(range(n)))] if n else []
        out.append((uid, pos, orn, q))
    return out


def _child(conn: Any, scene: Any, config: Any, camera: str, size: tuple[int, int]) -> None:
    """The render process: build the world, then answer ('frame', state) with JPEG bytes, ('load', scene)
    by rebuilding, and None by exiting."""
    from agent.web.frames import encode_jpeg
    from sim.world import SimWorld

    world = SimWorld(scene, config)
    c = world.client
    while True:
        msg = conn.recv()
        if msg is None:
            break
        kind, arg = msg
        if kind == "load":
            world.load(arg)
            conn.send(b"")
            continue
        try:
            for uid, pos, orn, q in arg:
                c.resetBasePositionAndOrientation(uid, pos, orn)
                for j, v in enumerate(q):
                    c.resetJointState(uid, j, v)
            conn.send(encode_jpeg(world.render(camera, *size)["rgb"]))
        except Exception as e:  # noqa: BLE001 - report, keep serving
            conn.send(f"{type(e).__name__}: {e}".encode())
    world.close()


class MirrorCamera:
    """See the module docstring. ``world``: the robot's :class:`sim.world.SimWorld`."""

    def __init__(self, world: Any, camera: str, size: tuple[int, int]) -> None:
        self.world, self.camera, self.size = world, camera, size
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._scene = world.scene
        self._proc = ctx.Process(target=_child, args=(child, world.scene, world.config, camera, size),
                                 name="robocorrect-camera", daemon=True)
        self._proc.start()
        child.close()
        self._lock = threading.Lock()

    def capture(self) -> Optional[bytes]:
        with self._lock:
            if not self._proc.is_alive():
                raise RuntimeError("the camera process has ended")
            if self.world.scene is not self._scene:
                self._scene = self.world.scene
                self._conn.send(("load", self._scene))
                self._conn.recv()
            self._conn.send(("frame", _state(self.world.client)))
            out = self._conn.recv()
        if out[:2] != b"\xff\xd8":  # not a JPEG: the child's error message; rebuild its world next time
            self._scene = None
            raise RuntimeError(out.decode(errors="replace"))
        return out

    def close(self) -> None:
        with self._lock:
            try:
                self._conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        self._proc.join(timeout=5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(timeout=2)
