"""Appearance vectors of objects from image crops, for retrieving knowledge by what an object looks like.

:class:`VisualEncoder` is the interface (RGB crop, optional mask -> unit float32 vector). The shipped
:class:`OpenCVDescriptor` needs no model: a hue/saturation histogram and a value histogram of the object's
pixels (HSV), the log Hu moments of its silhouette, and three shape/size numbers (aspect ratio of the
silhouette's bounding box, fill ratio = silhouette area / bounding box area, and size = silhouette area as a
fraction of the crop). A CLIP-like model can replace it behind the same interface.

Images are ``uint8`` H×W×3 RGB (0..255) or float RGB in [0, 1]; a mask is H×W, non-zero on the object.
Without a mask the object is separated from the background by how far each pixel's colour is from the
crop's border colour (Otsu threshold), which suits a tabletop crop centred on one object.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Optional

import numpy as np
from hardware.errors import RobocorrectError


class VisualError(RobocorrectError, ValueError):
    """An image or mask that cannot be encoded; the message says why."""


class VisualEncoder(ABC):
    """Image crop (+ optional mask) -> L2-normalised float32 vector of length ``dim``."""

    name: str = "visual"
    dim: int = 0

    @abstractmethod
    def encode(self, image: np.ndarray, mask: Optional[np.ndarray] = None) -> np.ndarray:
        """The unit vector describing the object in ``image``."""


def _as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, :3]
    if img.ndim != 3 or img.shape[2] != 3:
        raise VisualError(f"expected an H x W x 3 RGB image, got shape {img.shape}")
    if img.shape[0] < 2 or img.shape[1] < 2:
        raise VisualError(f"image too small to describe: {img.shape[0]} x {img.shape[1]} pixels")
    if img.dtype != np.uint8:
        f = img.astype(np.float32)
        if f.max() <= 1.0 + 1e-6:
            f = f * 255.0
        img = np.clip(f, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img)


class OpenCVDescriptor(VisualEncoder):
    """Colour histogram (HSV) + shape (Hu moments, aspect, fill) + size, weighted, concatenated, normalised.

    Layout: ``h_bins * s_bins`` hue-saturation bins, ``v_bins`` value bins, 7 log-Hu moments, aspect, fill,
    size. Weights balance the groups so colour dominates, shape and size still separate a small block from a
    large one of the same colour.
    """

    name = "opencv-hsv-hu"

    def __init__(self, h_bins: int = 12, s_bins: int = 4, v_bins: int = 4,
                 w_color: float = 1.0, w_value: float = 0.35, w_shape: float = 0.35, w_size: float = 0.6) -> None:
        self.h_bins, self.s_bins, self.v_bins = h_bins, s_bins, v_bins
        self.w_color, self.w_value, self.w_shape, self.w_size = w_color, w_value, w_shape, w_size
        self.dim = h_bins * s_bins + v_bins + 7 + 3

    @staticmethod
    def auto_mask(rgb: np.ndarray) -> np.ndarray:
        """Object pixels: colour distance from the median border colour above an Otsu threshold."""
        import cv2

        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
        border = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]], axis=0)
        bg = np.median(border, axis=0)
        dist = np.linalg.norm(lab - bg, axis=2)
        d8 = np.clip(dist * (255.0 / max(float(dist.max()), 1e-6)), 0, 255).astype(np.uint8)
        _, m = cv2.threshold(d8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        if m.sum() == 0:
            m[:] = 255
        return m > 0

    def encode(self, image: np.ndarray, mask: Optional[np.ndarray] = None) -> np.ndarray:
        import cv2

        rgb = _as_rgb_uint8(image)
        if mask is None:
            m = self.auto_mask(rgb)
        else:
            m = np.asarray(mask)
            if m.shape[:2] != rgb.shape[:2]:
                raise VisualError(f"mask shape {m.shape[:2]} does not match image shape {rgb.shape[:2]}")
            m = m.reshape(rgb.shape[:2]) != 0
            if not m.any():
                raise VisualError("the mask is empty: no object pixels to describe")
        m8 = m.astype(np.uint8) * 255
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
        hs = cv2.calcHist([hsv], [0, 1], m8, [self.h_bins, self.s_bins], [0, 180, 0, 256]).ravel()
        v = cv2.calcHist([hsv], [2], m8, [self.v_bins], [0, 256]).ravel()
        hs = hs / max(hs.sum(), 1.0)
        v = v / max(v.sum(), 1.0)
        mom = cv2.moments(m8, binaryImage=True)
        hu = cv2.HuMoments(mom).ravel()
        hu = -np.sign(hu) * np.log10(np.abs(hu) + 1e-30)
        hu = np.clip(hu, -30, 30) / 30.0
        ys, xs = np.nonzero(m)
        bh, bw = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        aspect = min(bh, bw) / max(bh, bw)
        fill = m.sum() / float(bh * bw)
        size = np.sqrt(m.sum() / float(m.size))
        vec = np.concatenate([
            self.w_color * np.sqrt(hs),  # Hellinger-style: cosine of sqrt histograms ~ Bhattacharyya
            self.w_value * np.sqrt(v),
            self.w_shape * hu / np.sqrt(7.0),
            self.w_size * np.array([aspect, fill, size]) / np.sqrt(3.0),
        ]).astype(np.float32)
        n = float(np.linalg.norm(vec))
        return vec / n if n > 0 else vec
