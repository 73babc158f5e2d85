"""Blocks and bowls from one frame: colour masks, shapes in the base frame, a :class:`hardware.scene.Scene`.

Pipeline (units m, base frame, table top at ``table_z``):

1. Colour: each pixel's hue and saturation (HSV) against the saturated colours of ``hardware.scene.COLORS``
   (red, green, blue, yellow, orange, purple, pink); grey, white, black and the table are not objects.
2. Blobs: connected components of each colour's mask (opened 3x3), at least ``min_pixels``.
   With depth, pixels within ``table_eps`` of the table are dropped first.
3. Geometry: with depth, every blob pixel is lifted to a 3-D point in the base frame
   (:class:`hardware.perception.calibration.Calibration`) and points within ``table_eps`` of the table are
   dropped. The top surface is the points within ``top_band`` of the blob's top (97th percentile of z); its
   minimum-area rectangle in x/y gives the centre, the footprint and the yaw. Without depth (a plain colour
   camera), pixels are intersected with the plane of the object's expected top instead (block: 4 cm; less
   accurate, and sizes are then assumed).
4. Shape: a footprint wider than ``container_min`` is a container (a bowl when its top is above 3.5 cm, a
   tray otherwise); anything smaller is a block whose size word comes from its height.

Names follow :func:`hardware.scene.object_name` ("red block", "small blue block", "green bowl"); a second
object with the same name gets " 2".
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from hardware.perception.calibration import Calibration
from hardware.perception.camera import Frame
from hardware.scene import BLOCK_SIZES, BOWL_DIAMETER, BOWL_HEIGHT, COLORS, TRAY_HEIGHT, TRAY_SIZE, Scene, SceneObject, object_name


@dataclass
class SegmentConfig:
    """Thresholds (m, px, 0..255 HSV units)."""

    min_saturation: int = 110  # the table's wood (saturation 96) is not an object colour
    min_value: int = 40
    min_pixels: int = 25
    table_eps: float = 0.004  # m above the table that still counts as table
    top_band: float = 0.008  # m below an object's top that belongs to its top surface
    container_min: float = 0.10  # m footprint from which an object is a container
    assumed_block: float = 0.04  # m, block height assumed without depth


def _palette() -> dict[str, tuple[float, float]]:
    """Hue (deg) and saturation (0..1) of each saturated scene colour."""
    out = {}
    for name, (r, g, b, _) in COLORS.items():
        mx, mn = max(r, g, b), min(r, g, b)
        s = 0.0 if mx == 0 else (mx - mn) / mx
        if s < 0.35:
            continue
        if mx == r:
            h = (60 * (g - b) / (mx - mn)) % 360
        elif mx == g:
            h = 60 * (b - r) / (mx - mn) + 120
        else:
            h = 60 * (r - g) / (mx - mn) + 240
        out[name] = (h, s)
    return out


PALETTE = _palette()


def colour_labels(rgb: np.ndarray, cfg: SegmentConfig) -> tuple[np.ndarray, list[str]]:
    """(H, W) int label per pixel: index into the returned colour names, -1 for no object colour."""
    import cv2

    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).astype(np.float32)
    h, s, v = hsv[..., 0] * 2.0, hsv[..., 1] / 255.0, hsv[..., 2]
    names = list(PALETTE)
    cost = []
    for n in names:
        ph, ps = PALETTE[n]
        dh = np.abs((h - ph + 180.0) % 360.0 - 180.0)
        cost.append(dh + 60.0 * np.abs(s - ps))
    lab = np.argmin(np.stack(cost), axis=0).astype(np.int32)
    lab[(hsv[..., 1] < cfg.min_saturation) | (v < cfg.min_value)] = -1
    return lab, names


def _shape(pts: np.ndarray, cfg: SegmentConfig) -> Optional[tuple[float, float, float, float, float, float]]:
    """Points (N, 3) of one blob -> centre x, y (m), footprint w, l (m), yaw (rad), top z (m)."""
    import cv2

    if len(pts) < 8:
        return None
    top = float(np.percentile(pts[:, 2], 97))
    band = pts[pts[:, 2] > top - cfg.top_band]
    if len(band) < 5:
        band = pts
    (cx, cy), (w, l), ang = cv2.minAreaRect(band[:, :2].astype(np.float32))
    return float(cx), float(cy), float(w), float(l), math.radians(float(ang)), top


def detect(frame: Frame, calib: Calibration, cfg: SegmentConfig | None = None, table_z: float = 0.0) -> Scene:
    """The objects in ``frame`` as a :class:`Scene` (positions: bounding-box centres in the base frame, m)."""
    import cv2

    cfg = cfg or SegmentConfig()
    intr = calib.intrinsics
    lab, names = colour_labels(frame.rgb, cfg)
    if frame.depth is not None:  # drop the table (and anything below it) before forming blobs
        hh, ww = frame.depth.shape
        vv, uu = np.mgrid[0:hh, 0:ww]
        z = calib.to_base(intr.backproject(uu.ravel().astype(np.float64), vv.ravel().astype(np.float64),
                                           frame.depth.ravel().astype(np.float64)))[:, 2].reshape(hh, ww)
        lab[z <= table_z + cfg.table_eps] = -1
    kernel = np.ones((3, 3), np.uint8)
    found: list[SceneObject] = []
    for ci, colour in enumerate(names):
        mask = cv2.morphologyEx((lab == ci).astype(np.uint8), cv2.MORPH_OPEN, kernel)
        n, comp, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for k in range(1, n):
            if stats[k, cv2.CC_STAT_AREA] < cfg.min_pixels:
                continue
            v, u = np.nonzero(comp == k)
            if frame.depth is not None:
                d = frame.depth[v, u].astype(np.float64)
                pts = calib.to_base(intr.backproject(u.astype(np.float64), v.astype(np.float64), d))
                pts = pts[pts[:, 2] > table_z + cfg.table_eps]
            else:
                pts = _on_plane(u, v, calib, table_z + cfg.assumed_block)
            shape = _shape(pts, cfg)
            if shape is None:
                continue
            obj = _object(colour, shape, cfg, table_z, depth=frame.depth is not None)
            if obj is not None:
                found.append(obj)
    return Scene(objects=_unique(found))


def _on_plane(u: np.ndarray, v: np.ndarray, calib: Calibration, z: float) -> np.ndarray:
    """Pixels intersected with the horizontal plane at height ``z`` (m): (N, 3) base-frame points."""
    intr = calib.intrinsics
    rays = np.stack([(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, np.ones(len(u))], axis=-1) @ calib.T_base_cam[:3, :3].T
    o = calib.T_base_cam[:3, 3]
    t = (z - o[2]) / np.where(np.abs(rays[:, 2]) < 1e-9, -1e-9, rays[:, 2])
    return o + rays * t[:, None]


def _object(colour: str, shape: tuple[float, float, float, float, float, float], cfg: SegmentConfig, table_z: float,
            depth: bool) -> Optional[SceneObject]:
    cx, cy, w, l, yaw, top = shape
    height = top - table_z if depth else cfg.assumed_block
    extent = max(w, l)
    yaw = math.remainder(yaw, math.pi / 2)
    if extent >= cfg.container_min:
        kind = "bowl" if height > 0.035 else "tray"
        size = extent if depth else (BOWL_DIAMETER if kind == "bowl" else TRAY_SIZE)
        h = height if depth else (BOWL_HEIGHT if kind == "bowl" else TRAY_HEIGHT)
        return SceneObject(object_name(colour, kind), kind, colour, min(size, 0.4), (cx, cy, table_z + h / 2), yaw=yaw, height=h)
    if height < 0.01 or extent < 0.01:
        return None
    word = min(BLOCK_SIZES, key=lambda k: abs(BLOCK_SIZES[k] - height))
    size = (w + l) / 2 if depth else BLOCK_SIZES[word]
    return SceneObject(object_name(colour, "block", word), "block", colour, max(size, 0.005), (cx, cy, table_z + height / 2),
                       yaw=yaw, height=height)


def _unique(objs: list[SceneObject]) -> list[SceneObject]:
    seen: dict[str, int] = {}
    for o in sorted(objs, key=lambda o: (o.position[0], o.position[1])):
        seen[o.name] = seen.get(o.name, 0) + 1
        if seen[o.name] > 1:
            o.name = f"{o.name} {seen[o.name]}"
    return objs


__all__ = ["detect", "SegmentConfig", "colour_labels", "PALETTE"]
