"""Cameras: :class:`Frame` (RGB uint8, optional depth in metres) and pinhole :class:`Intrinsics`.

Camera frame (OpenCV's): x right, y down, z forward along the optical axis; pixel (u, v) = (column, row)
with (0, 0) the centre of the top-left pixel. ``depth[v, u]`` is the distance (m) along z.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from hardware.perception import PerceptionError


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics (px) of a ``width`` x ``height`` image; no lens distortion (undistort first)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def from_fov(cls, fov_y_deg: float, width: int, height: int) -> "Intrinsics":
        """Square pixels, principal point at the image centre, vertical field of view ``fov_y_deg`` (deg)."""
        f = (height / 2.0) / math.tan(math.radians(fov_y_deg) / 2.0)
        return cls(f, f, (width - 1) / 2.0, (height - 1) / 2.0, width, height)

    @property
    def matrix(self) -> np.ndarray:
        """The 3x3 camera matrix K."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def backproject(self, u: np.ndarray, v: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Pixels and their depths (m) -> (N, 3) points in the camera frame (m)."""
        return np.stack([(u - self.cx) / self.fx * depth, (v - self.cy) / self.fy * depth, depth], axis=-1)

    def to_dict(self) -> dict[str, float]:
        return {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy, "width": self.width, "height": self.height}


@dataclass
class Frame:
    """One capture: ``rgb`` (H, W, 3) uint8, ``depth`` (H, W) float metres or None (plain colour camera)."""

    rgb: np.ndarray
    depth: Optional[np.ndarray] = None


class Camera(ABC):
    """A source of frames with known intrinsics."""

    intrinsics: Intrinsics

    @abstractmethod
    def read(self) -> Frame:
        """The latest frame; PerceptionError when the camera gives none."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the device; a second call does nothing."""


class OpenCVCamera(Camera):
    """A colour camera through ``cv2.VideoCapture`` (device index or file/URL). No depth: objects are then
    located on their expected heights (see :mod:`hardware.perception.segment`)."""

    def __init__(self, source: str, intrinsics: Intrinsics) -> None:
        import cv2

        self.intrinsics = intrinsics
        self._cap: Any = cv2.VideoCapture(int(source) if source.isdigit() else source)
        if not self._cap.isOpened():
            raise PerceptionError(f"cannot open camera {source!r} with OpenCV")
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, intrinsics.width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, intrinsics.height)

    def read(self) -> Frame:
        import cv2

        ok, bgr = self._cap.read()
        if not ok or bgr is None:
            raise PerceptionError("the camera returned no frame")
        return Frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class RealSenseCamera(Camera):
    """An Intel RealSense (``pyrealsense2``): colour plus depth aligned to colour; intrinsics from the device."""

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30) -> None:
        try:
            import pyrealsense2 as rs  # optional dependency
        except ImportError as e:
            raise PerceptionError("camera 'realsense' needs pyrealsense2 (pip install pyrealsense2)") from e
        self._rs = rs
        self._pipe = rs.pipeline()
        cfg = rs.config()
        cfg.enable_stream(rs.stream.color, width, height, rs.format.rgb8, fps)
        cfg.enable_stream(rs.stream.depth, width, height, rs.format.z16, fps)
        profile = self._pipe.start(cfg)
        self._align = rs.align(rs.stream.color)
        self._scale = profile.get_device().first_depth_sensor().get_depth_scale()
        i = profile.get_stream(rs.stream.color).as_video_stream_profile().get_intrinsics()
        self.intrinsics = Intrinsics(i.fx, i.fy, i.ppx, i.ppy, i.width, i.height)

    def read(self) -> Frame:
        frames = self._align.process(self._pipe.wait_for_frames())
        color, depth = frames.get_color_frame(), frames.get_depth_frame()
        if not color or not depth:
            raise PerceptionError("the RealSense returned no frame")
        return Frame(np.asanyarray(color.get_data()).copy(),
                     np.asanyarray(depth.get_data()).astype(np.float32) * self._scale)

    def close(self) -> None:
        if self._pipe is not None:
            self._pipe.stop()
            self._pipe = None


__all__ = ["Intrinsics", "Frame", "Camera", "OpenCVCamera", "RealSenseCamera"]
