""":class:`CameraWorld`: the :class:`hardware.base.World` of a real arm, seen through a calibrated camera.

It captures a frame, segments it (:func:`hardware.perception.segment.detect`) and answers ``names``,
``pose``, ``dims`` and ``kind`` from the resulting :class:`hardware.scene.Scene`, the same scene model the
simulator uses. :meth:`CameraWorld.refresh` looks again; the skills call the World between motions, so call
``refresh()`` before planning (the session's start does it through :meth:`scene`). ``held()`` stays the
default (None): a fixed camera cannot tell what is between the fingers; use the gripper's opening.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from hardware.base import World
from hardware.perception.calibration import Calibration
from hardware.perception.camera import Camera, Frame, Intrinsics
from hardware.perception.segment import SegmentConfig, detect
from hardware.scene import Scene

logger = logging.getLogger(__name__)


class CameraWorld(World):
    """Objects from ``camera`` located with ``calibration`` (base frame, m / rad)."""

    def __init__(self, camera: Camera, calibration: Calibration, segment: SegmentConfig | None = None) -> None:
        self.camera = camera
        self.calibration = calibration
        self.segment = segment or SegmentConfig()
        self._scene: Optional[Scene] = None
        self._frame: Optional[Frame] = None

    @classmethod
    def from_config(cls, cam: Any) -> "CameraWorld":
        """From a :class:`hardware.config.CameraConfig`: ``source`` "realsense" or an OpenCV source, and its
        calibration file (whose intrinsics the OpenCV camera uses)."""
        from hardware.perception import PerceptionError

        if not cam.calibration:
            raise PerceptionError("the [camera] section needs a calibration file")
        calib = Calibration.load(cam.calibration)
        if cam.source == "realsense":
            from hardware.perception.camera import RealSenseCamera

            camera: Camera = RealSenseCamera(cam.width, cam.height)
        else:
            from hardware.perception.camera import OpenCVCamera

            camera = OpenCVCamera(cam.source, calib.intrinsics)
        return cls(camera, calib)

    # --- seeing ---------------------------------------------------------------------------------------------
    def refresh(self) -> Scene:
        """Capture a frame and rebuild the scene from it."""
        self._frame = self.camera.read()
        self._scene = detect(self._frame, self.calibration, self.segment)
        logger.info("camera sees: %s", ", ".join(self._scene.names) or "nothing")
        return self._scene

    def scene(self) -> Scene:
        """The last scene seen (captured now if none yet)."""
        return self._scene if self._scene is not None else self.refresh()

    # --- World interface --------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return self.scene().names

    def pose(self, name: str) -> tuple[tuple[float, float, float], float]:
        o = self.scene().get(name)
        return (o.position[0], o.position[1], o.position[2]), float(o.yaw)

    def dims(self, name: str) -> tuple[float, float, float]:
        o = self.scene().get(name)
        return (o.size, o.size, o.height)

    def kind(self, name: str) -> str:
        return self.scene().get(name).kind

    def render(self, camera: str = "scene", width: int | None = None, height: int | None = None) -> dict[str, Any] | None:
        """The last captured frame (``rgb``, and ``depth`` in m where the camera has it)."""
        if self._frame is None:
            return None
        out: dict[str, Any] = {"rgb": self._frame.rgb}
        if self._frame.depth is not None:
            out["depth"] = self._frame.depth
        return out

    def close(self) -> None:
        self.camera.close()


__all__ = ["CameraWorld", "Intrinsics"]
