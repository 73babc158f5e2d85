"""Camera-to-base calibration from one image of a ChArUco board lying flat at a known place on the table.

The board (``cv2.aruco.CharucoBoard``): ``squares_x`` x ``squares_y`` chessboard squares of ``square`` m with
ArUco markers of ``marker`` m. Its frame (OpenCV's): origin at the printed image's top-left corner, X along
the image's columns, Y along its rows, Z into the print. Lying face up on the table, Z points down;
:attr:`BoardSpec.yaw` is the direction of X in the base frame (rad about z) and :attr:`BoardSpec.origin` the
position (m, base frame) of the top-left corner, so ``Y = (sin yaw, -cos yaw, 0)``.

:func:`calibrate` detects the board corners, solves the board pose in the camera (``cv2.solvePnP``) and
returns ``T_base_cam`` (4x4, camera frame -> base frame). Print the board at 100 % (``board_image``) and
measure where its corner lies; ``origin`` is then that corner and the TCP can confirm it by touching it.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hardware.perception import PerceptionError
from hardware.perception.camera import Intrinsics

MIN_CORNERS = 6


@dataclass(frozen=True)
class BoardSpec:
    """A ChArUco board and where it lies: sizes in m, ``dictionary`` an OpenCV ArUco dictionary name,
    ``origin`` (m, base frame) its top-left corner, ``yaw`` (rad) the direction of its X axis."""

    squares_x: int = 7
    squares_y: int = 5
    square: float = 0.04
    marker: float = 0.03
    dictionary: str = "DICT_4X4_50"
    origin: tuple[float, float, float] = (0.6, 0.14, 0.0)
    yaw: float = -math.pi / 2

    def board(self) -> Any:
        import cv2

        try:
            d = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))
        except AttributeError:
            raise PerceptionError(f"unknown ArUco dictionary {self.dictionary!r}") from None
        return cv2.aruco.CharucoBoard((self.squares_x, self.squares_y), self.square, self.marker, d)

    @property
    def size(self) -> tuple[float, float]:
        """Board extent (m) along its X and Y."""
        return self.squares_x * self.square, self.squares_y * self.square

    def T_base_board(self) -> np.ndarray:
        """4x4 pose of the board frame in the base frame."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        T = np.eye(4)
        T[:3, 0] = (c, s, 0.0)
        T[:3, 1] = (s, -c, 0.0)
        T[:3, 2] = (0.0, 0.0, -1.0)
        T[:3, 3] = self.origin
        return T


def board_image(spec: BoardSpec, px_per_m: float = 4000.0) -> np.ndarray:
    """The board as a grey image (uint8), ``px_per_m`` pixels per metre, no margin: print it at that scale."""
    w, h = (int(round(v * px_per_m)) for v in spec.size)
    return spec.board().generateImage((w, h), marginSize=0, borderBits=1)


@dataclass
class Calibration:
    """The camera in the base frame: ``T_base_cam`` (4x4, camera frame -> base frame), the intrinsics it was
    solved with, the RMS reprojection error (px) and the number of board corners used."""

    T_base_cam: np.ndarray
    intrinsics: Intrinsics
    reprojection_px: float
    corners: int

    def to_base(self, pts_cam: np.ndarray) -> np.ndarray:
        """(N, 3) camera-frame points (m) -> base frame (m)."""
        return pts_cam @ self.T_base_cam[:3, :3].T + self.T_base_cam[:3, 3]

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        p.write_text(json.dumps({"T_base_cam": self.T_base_cam.tolist(), "intrinsics": self.intrinsics.to_dict(),
                                 "reprojection_px": self.reprojection_px, "corners": self.corners}, indent=1))
        return p

    @classmethod
    def load(cls, path: str | Path) -> "Calibration":
        try:
            d = json.loads(Path(path).read_text())
            return cls(np.asarray(d["T_base_cam"], dtype=float), Intrinsics(**d["intrinsics"]),
                       float(d["reprojection_px"]), int(d["corners"]))
        except FileNotFoundError:
            raise PerceptionError(f"{path}: no camera calibration file; calibrate with the ChArUco board first") from None
        except (ValueError, KeyError, TypeError) as e:
            raise PerceptionError(f"{path}: not a camera calibration file ({e})") from None


def calibrate(rgb: np.ndarray, intrinsics: Intrinsics, spec: BoardSpec) -> Calibration:
    """The camera's pose from one image (H, W, 3 RGB or H, W grey) showing the board ``spec`` describes.

    Raises PerceptionError when fewer than :data:`MIN_CORNERS` corners are found."""
    import cv2

    gray = rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    board = spec.board()
    corners, ids, _, _ = cv2.aruco.CharucoDetector(board).detectBoard(gray)
    n = 0 if ids is None else len(ids)
    if n < MIN_CORNERS:
        raise PerceptionError(f"found {n} ChArUco corners, need {MIN_CORNERS}: is the whole board in view and lit?")
    obj = board.getChessboardCorners()[np.ravel(ids)].astype(np.float64)
    img = np.asarray(corners, dtype=np.float64).reshape(-1, 2)
    K = intrinsics.matrix
    ok, rvec, tvec = cv2.solvePnP(obj, img, K, None, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        raise PerceptionError("solvePnP found no board pose")
    rvec, tvec = cv2.solvePnPRefineLM(obj, img, K, None, rvec, tvec)
    proj, _ = cv2.projectPoints(obj, rvec, tvec, K, None)
    rms = float(np.sqrt(np.mean(np.sum((proj.reshape(-1, 2) - img) ** 2, axis=1))))
    T_cam_board = np.eye(4)
    T_cam_board[:3, :3] = cv2.Rodrigues(rvec)[0]
    T_cam_board[:3, 3] = np.ravel(tvec)
    return Calibration(spec.T_base_board() @ np.linalg.inv(T_cam_board), intrinsics, rms, n)


def spec_to_dict(spec: BoardSpec) -> dict[str, Any]:
    return asdict(spec)


__all__ = ["BoardSpec", "Calibration", "calibrate", "board_image", "MIN_CORNERS"]
