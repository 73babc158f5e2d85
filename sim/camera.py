"""Cameras of the simulated table: where they look (:class:`CameraSpec`), rendering, object crops, projecting
points to pixels, and turning frames into a labelled strip (:class:`FrameRecorder`, :func:`save_strip`).

Base frame (x forward, y left, z up), metres and degrees. Renders use ER_TINY_RENDERER, so they work headless.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pybullet as p

if TYPE_CHECKING:  # pragma: no cover
    from sim.world import SimWorld


@dataclass
class CameraSpec:
    """A pinhole camera: eye and target in the base frame (m), vertical field of view (deg), clip planes (m)."""

    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    fov_deg: float = 55.0
    near: float = 0.02
    far: float = 3.0


def top_camera(centre: Sequence[float], half_width: float, height: float = 1.2, clip_above: float = 0.09) -> CameraSpec:
    """A camera straight above ``centre`` (x, y in m) seeing about ``half_width`` m either side; forward (+x)
    is the image's top and the user's left (+y) the image's left. Nothing higher than ``clip_above`` m is
    drawn (its near plane cuts it), so the arm hovering over the spot does not hide it."""
    z = height
    fov = 2 * math.degrees(math.atan(half_width / (z - 0.04)))
    return CameraSpec(eye=(centre[0], centre[1], z), target=(centre[0], centre[1], 0.0), up=(1.0, 0.0, 0.0),
                      fov_deg=fov, near=z - clip_above, far=z + 0.5)


class Cameras:
    """The named cameras of one :class:`sim.world.SimWorld` ("scene", "user", "wrist") and what they see."""

    def __init__(self, world: "SimWorld") -> None:
        self.world = world

    def spec(self, camera: str) -> CameraSpec:
        """The :class:`CameraSpec` of a named camera (the wrist camera follows the hand)."""
        if camera == "scene":
            return self.world.config.scene_camera
        if camera == "user":
            return self.world.config.user_camera
        if camera == "wrist":
            (x, y, z), _yaw = self.world.robot.tcp_pose()
            hand = self.world.client.getLinkState(self.world.robot.body, self.world.robot.HAND)[0]
            return CameraSpec(eye=(hand[0] - 0.05, hand[1], hand[2] + 0.02), target=(x + 0.02, y, z - 0.3), up=(1, 0, 0), fov_deg=75.0, near=0.01)
        raise ValueError(f"unknown camera {camera!r}; cameras: scene, user, wrist")

    def matrices(self, cam: CameraSpec, width: int, height: int) -> tuple[list[float], list[float]]:
        """PyBullet's view and projection matrices (column-major, 16 floats each) of ``cam`` at ``width`` x ``height``."""
        view = self.world.client.computeViewMatrix(cam.eye, cam.target, cam.up)
        proj = self.world.client.computeProjectionMatrixFOV(cam.fov_deg, width / height, cam.near, cam.far)
        return view, proj

    def render(self, camera: str | CameraSpec = "scene", width: int | None = None, height: int | None = None) -> dict[str, np.ndarray]:
        """Pixels from ``camera`` ("scene": facing the robot; "user": from behind it, the user's view, so the
        user's left is the image's left; "wrist"; or a :class:`CameraSpec`): ``rgb`` (H, W, 3) uint8,
        ``depth`` (H, W) float32 metres, ``seg`` (H, W) int32 PyBullet body ids (-1 background).
        ER_TINY_RENDERER, so it works headless."""
        w, h = width or self.world.config.render_size[0], height or self.world.config.render_size[1]
        cam = camera if isinstance(camera, CameraSpec) else self.spec(camera)
        view, proj = self.matrices(cam, w, h)
        _, _, rgba, zbuf, seg = self.world.client.getCameraImage(w, h, view, proj, renderer=p.ER_TINY_RENDERER)
        rgba = np.asarray(rgba, dtype=np.uint8).reshape(h, w, 4)
        zbuf = np.asarray(zbuf, dtype=np.float32).reshape(h, w)
        depth = cam.far * cam.near / (cam.far - (cam.far - cam.near) * zbuf)
        seg = np.asarray(seg, dtype=np.int32).reshape(h, w)
        return {"rgb": rgba[:, :, :3].copy(), "depth": depth.astype(np.float32), "seg": seg.astype(np.int32)}

    def object_crop(self, name: str, size: int = 64, margin: float = 0.25, width: int = 320, height: int = 240,
                    frame: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """RGB crop (size x size x 3 uint8) of object ``name`` seen by the scene camera.

        Uses the segmentation mask of a scene render (pass ``frame`` to reuse one rendered at
        ``width`` x ``height``); falls back to the projected bounding box when the object is hidden.
        """
        import cv2

        body = self.world.body(name)
        fr = frame if frame is not None else self.render("scene", width, height)
        hh, ww = fr["seg"].shape
        ys, xs = np.nonzero(fr["seg"] == body)
        if len(xs) >= 4:
            x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        else:
            x0, x1, y0, y1 = self._project_box(name, ww, hh)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        half = max(x1 - x0, y1 - y0) * (0.5 + margin) + 1
        xa, xb = int(max(0, cx - half)), int(min(ww, cx + half))
        ya, yb = int(max(0, cy - half)), int(min(hh, cy + half))
        crop = fr["rgb"][ya:yb, xa:xb]
        if crop.size == 0:
            crop = fr["rgb"]
        return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)

    def project(self, camera: str | CameraSpec, points: Sequence[Sequence[float]], width: int, height: int) -> np.ndarray:
        """Pixel coordinates (N, 2) as (column, row) of base-frame ``points`` (m) in a ``width`` x ``height``
        render of ``camera``."""
        cam = camera if isinstance(camera, CameraSpec) else self.spec(camera)
        view, proj = self.matrices(cam, width, height)
        V = np.asarray(view).reshape(4, 4).T
        P = np.asarray(proj).reshape(4, 4).T
        out = []
        for x, y, z in points:
            v = P @ V @ np.array([x, y, z, 1.0])
            out.append(((v[0] / v[3] + 1) * width / 2, (1 - v[1] / v[3]) * height / 2))
        return np.asarray(out, dtype=np.float64)

    def _project_box(self, name: str, w: int, h: int) -> tuple[int, int, int, int]:
        cam = self.world.config.scene_camera
        view, proj = self.matrices(cam, w, h)
        V = np.asarray(view).reshape(4, 4).T
        P = np.asarray(proj).reshape(4, 4).T
        (x, y, z), _ = self.world.pose(name)
        sx, sy, sz = self.world.dims(name)
        pts = []
        for dx in (-sx / 2, sx / 2):
            for dy in (-sy / 2, sy / 2):
                for dz in (-sz / 2, sz / 2):
                    v = P @ V @ np.array([x + dx, y + dy, z + dz, 1.0])
                    pts.append(((v[0] / v[3] + 1) * w / 2, (1 - v[1] / v[3]) * h / 2))
        a = np.array(pts)
        return (int(np.clip(a[:, 0].min(), 0, w - 1)), int(np.clip(a[:, 0].max(), 1, w)),
                int(np.clip(a[:, 1].min(), 0, h - 1)), int(np.clip(a[:, 1].max(), 1, h)))


class FrameRecorder:
    """A ``SkillControl`` tick hook that renders ``camera`` every ``every_s`` simulated seconds into ``frames``.

    ``SkillControl(on_tick=FrameRecorder(world))``; then ``save_strip(recorder.frames, "out.png")``.
    Rendering is the slow part (ER_TINY_RENDERER): keep frames small and sparse.
    """

    def __init__(self, world: SimWorld, camera: str = "scene", every_s: float = 0.5, size: tuple[int, int] = (160, 120),
                 max_frames: int = 64) -> None:
        self.world, self.camera, self.size, self.max_frames = world, camera, size, max_frames
        self.every = max(1, int(round(every_s * world.robot.config.control_hz)))
        self.frames: list[np.ndarray] = []

    def __call__(self, tick: int, state: Any, control: Any) -> None:
        if tick % self.every == 0 and len(self.frames) < self.max_frames:
            self.frames.append(self.world.render(self.camera, *self.size)["rgb"])


def caption(frame: np.ndarray, text: str, lines: int = 3, scale: float = 0.4) -> np.ndarray:
    """``frame`` (H, W, 3 uint8 RGB) with a white band below it holding ``text``, wrapped to the width
    (at most ``lines`` lines; ``\n`` starts a new line)."""
    import cv2

    h, w = frame.shape[:2]
    font, thick = cv2.FONT_HERSHEY_SIMPLEX, 1
    line_h = int(22 * scale / 0.4)
    wrapped: list[str] = []
    for para in text.split("\n"):
        cur = ""
        for word in para.split():
            cand = f"{cur} {word}".strip()
            if cv2.getTextSize(cand, font, scale, thick)[0][0] > w - 8 and cur:
                wrapped.append(cur)
                cur = word
            else:
                cur = cand
        wrapped.append(cur)
    wrapped = wrapped[:lines]
    band = np.full((line_h * lines + 6, w, 3), 255, dtype=np.uint8)
    for i, line in enumerate(wrapped):
        cv2.putText(band, line, (4, line_h * (i + 1)), font, scale, (0, 0, 0), thick, cv2.LINE_AA)
    return np.vstack([frame, band])


def save_strip(frames: Sequence[np.ndarray], path: str | Path, max_per_row: int = 8,
               labels: Sequence[str] | None = None, label_lines: int = 3) -> Path:
    """Save RGB frames (H, W, 3 uint8, same size) side by side as one PNG (rows of ``max_per_row``); with
    ``labels`` (one per frame) each frame gets its caption below it (:func:`caption`)."""
    import cv2

    if not frames:
        raise ValueError("no frames to save")
    if labels is not None:
        if len(labels) != len(frames):
            raise ValueError(f"{len(labels)} labels for {len(frames)} frames")
        h0, w0 = frames[0].shape[:2]
        frames = [caption(cv2.resize(f, (w0, h0)), t, label_lines) for f, t in zip(frames, labels)]
    h, w = frames[0].shape[:2]
    rows = []
    for i in range(0, len(frames), max_per_row):
        row = [cv2.resize(f, (w, h)) for f in frames[i:i + max_per_row]]
        row += [np.full_like(row[0], 255)] * (max_per_row - len(row)) if len(frames) > max_per_row else []
        rows.append(np.hstack(row))
    img = np.vstack(rows)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return out
