"""``robocorrect bench perception``: camera perception against simulator ground truth.

    robocorrect bench perception --scenes 50 --json

For each of ``--cameras`` camera poses (the simulator's scene camera, jittered, seeded), a ChArUco board is
rendered lying on the table (a textured quad in PyBullet), the camera is calibrated from that one image
(:func:`hardware.perception.calibration.calibrate`) and the board is removed. Then random tables
(``sim.scene.random_scene``: 2 to 4 blocks of 3 to 5 cm, 1 or 2 bowls) are rendered (RGB + depth, 640 x 480)
and :func:`hardware.perception.segment.detect` builds the scene, which is compared with the simulator's object
poses: position error (cm, 3-D, bounding-box centres), identity (name = colour, kind and size word) and
misses / false detections. The renderer's depth is exact; ``--depth-noise`` adds Gaussian noise (m) to it and
``--rgb-only`` drops it. The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import tempfile
import time
from typing import Any

import numpy as np

MATCH_RADIUS = 0.05  # m: a detection farther than this from an object does not count as seeing it


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenes", type=int, default=50, help="number of random tables (default 50)")
    parser.add_argument("--cameras", type=int, default=5, help="camera poses, each calibrated from the board (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the tables and camera poses (default 0)")
    parser.add_argument("--width", type=int, default=640, help="image width (px, default 640); height is 3/4 of it")
    parser.add_argument("--rgb-only", action="store_true", help="no depth: locate objects on their expected heights")
    parser.add_argument("--depth-noise", type=float, default=0.0,
                        help="standard deviation (m) of Gaussian noise added to every depth pixel (default 0: the renderer's exact depth)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")


def _true_T_base_cam(view: list[float]) -> np.ndarray:
    V = np.asarray(view, dtype=float).reshape(4, 4).T  # base -> OpenGL eye (x right, y up, z back)
    return np.linalg.inv(np.diag([1.0, -1.0, -1.0, 1.0]) @ V)


def _add_board(world: Any, spec: Any, png: str) -> int:
    """A textured quad showing the board where ``spec`` says it lies (1 mm above the table)."""
    import pybullet as p

    T = spec.T_base_board()
    lx, ly = spec.size
    corners = [(0, 0), (1, 0), (1, 1), (0, 1)]
    verts = [list(T[:3, 3] + u * lx * T[:3, 0] + v * ly * T[:3, 1] + np.array([0, 0, 0.001])) for u, v in corners]
    uvs = [[u, 1.0 - v] for u, v in corners]  # PyBullet's texture rows run bottom-up
    c = world.client
    vis = c.createVisualShape(p.GEOM_MESH, vertices=verts, indices=[0, 1, 2, 0, 2, 3, 0, 2, 1, 0, 3, 2], uvs=uvs,
                              normals=[[0, 0, 1]] * 4)
    body = c.createMultiBody(0, -1, vis)
    c.changeVisualShape(body, -1, textureUniqueId=c.loadTexture(png), rgbaColor=[1, 1, 1, 1])
    return body


def _render(world: Any, cam: Any, w: int, h: int) -> tuple[dict[str, np.ndarray], list[float]]:
    world.config.scene_camera = cam
    view, _ = world.cameras.matrices(cam, w, h)
    return world.render("scene", w, h), view


def _match(truth: list[tuple[str, tuple[float, float, float]]], found: list[Any]) -> list[tuple[str, Any, float]]:
    """Greedy nearest pairs (x/y distance) within MATCH_RADIUS: (true name, detection or None, 3-D error m)."""
    pairs = sorted((math.dist(t[1][:2], f.position[:2]), i, j) for i, t in enumerate(truth) for j, f in enumerate(found))
    used_t, used_f, out = set(), set(), {}
    for d, i, j in pairs:
        if d <= MATCH_RADIUS and i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
            out[i] = (truth[i][0], found[j], math.dist(truth[i][1], found[j].position))
    return [out.get(i, (t[0], None, float("nan"))) for i, t in enumerate(truth)]


def run(args: argparse.Namespace) -> int:
    import cv2

    from hardware.errors import UsageError
    from hardware.perception import PerceptionError
    from hardware.perception.calibration import BoardSpec, board_image, calibrate
    from hardware.perception.camera import Frame, Intrinsics
    from hardware.perception.segment import detect
    from hardware.scene import Scene
    from sim.scene import random_scene
    from sim.camera import CameraSpec
    from sim.world import SimWorld

    if args.scenes < 1 or args.cameras < 1 or args.width < 160 or not 0 <= args.depth_noise < 0.05:
        raise UsageError("--scenes and --cameras must be at least 1, --width at least 160, --depth-noise in [0, 0.05) m")
    noise = np.random.default_rng(args.seed)
    w, h = args.width, args.width * 3 // 4
    rng = random.Random(args.seed)
    spec = BoardSpec()
    world = SimWorld(Scene(objects=[]))
    errors: list[float] = []
    n_obj = ids_ok = col_ok = kind_ok = missed = false_det = 0
    calib_pos_mm: list[float] = []
    calib_rot_deg: list[float] = []
    reproj: list[float] = []
    det_ms: list[float] = []
    fd, png = tempfile.mkstemp(suffix=".png")
    os.close(fd)
    try:
        cv2.imwrite(png, cv2.cvtColor(board_image(spec), cv2.COLOR_GRAY2BGR))
        per_cam = math.ceil(args.scenes / args.cameras)
        scene_i = 0
        for cam_i in range(args.cameras):
            base = world.config.scene_camera
            j = [rng.uniform(-1, 1) for _ in range(5)]
            cam = CameraSpec(eye=(base.eye[0] + 0.08 * j[0], base.eye[1] + 0.15 * j[1], base.eye[2] + 0.08 * j[2]),
                             target=(base.target[0] + 0.04 * j[3], base.target[1] + 0.04 * j[4], base.target[2]),
                             fov_deg=base.fov_deg)
            world.load(Scene(objects=[]))
            board = _add_board(world, spec, png)
            frame, view = _render(world, cam, 2 * w, 2 * h)
            world.client.removeBody(board)
            try:
                cal = calibrate(frame["rgb"], Intrinsics.from_fov(cam.fov_deg, 2 * w, 2 * h), spec)
            except PerceptionError as e:
                raise PerceptionError(f"camera pose {cam_i}: {e}") from None
            true_T = _true_T_base_cam(view)
            calib_pos_mm.append(1000 * float(np.linalg.norm(cal.T_base_cam[:3, 3] - true_T[:3, 3])))
            dR = cal.T_base_cam[:3, :3].T @ true_T[:3, :3]
            calib_rot_deg.append(math.degrees(math.acos(min(1.0, max(-1.0, (np.trace(dR) - 1) / 2)))))
            reproj.append(cal.reprojection_px)
            cal.intrinsics = Intrinsics.from_fov(cam.fov_deg, w, h)  # the same camera at the working resolution
            for _ in range(per_cam):
                if scene_i >= args.scenes:
                    break
                scene = random_scene(args.seed * 1000 + scene_i, n_blocks=rng.randint(2, 4), n_bowls=rng.randint(1, 2),
                                     sizes=("small", "medium", "large"))
                scene_i += 1
                world.load(scene)
                world.settle(0.3)
                fr, _ = _render(world, cam, w, h)
                depth = fr["depth"] + noise.normal(0.0, args.depth_noise, fr["depth"].shape) if args.depth_noise else fr["depth"]
                t0 = time.perf_counter()
                found = detect(Frame(fr["rgb"], None if args.rgb_only else depth), cal).objects
                det_ms.append(1000 * (time.perf_counter() - t0))
                truth = [(n, world.pose(n)[0]) for n in world.names()]
                matches = _match(truth, found)
                n_obj += len(truth)
                false_det += len(found) - sum(1 for m in matches if m[1] is not None)
                for name, det, err in matches:
                    if det is None:
                        missed += 1
                        continue
                    errors.append(100 * err)
                    obj = scene.get(name)
                    ids_ok += det.name.split(" 2")[0] == name
                    col_ok += det.color == obj.color
                    kind_ok += det.kind == obj.kind
    finally:
        world.close()
        os.unlink(png)
    errors.sort()
    out = {
        "bench": "perception", "scenes": args.scenes, "cameras": args.cameras, "objects": n_obj,
        "image": [w, h], "depth": not args.rgb_only, "depth_noise_m": args.depth_noise,
        "position_error_cm_mean": round(statistics.fmean(errors), 3) if errors else None,
        "position_error_cm_p95": round(errors[min(len(errors) - 1, int(0.95 * len(errors)))], 3) if errors else None,
        "position_error_cm_max": round(errors[-1], 3) if errors else None,
        "identity_accuracy": round(ids_ok / n_obj, 4) if n_obj else None,
        "colour_accuracy": round(col_ok / n_obj, 4) if n_obj else None,
        "kind_accuracy": round(kind_ok / n_obj, 4) if n_obj else None,
        "missed": missed, "false_detections": false_det,
        "calibration_position_error_mm_mean": round(statistics.fmean(calib_pos_mm), 2),
        "calibration_rotation_error_deg_mean": round(statistics.fmean(calib_rot_deg), 3),
        "calibration_reprojection_px_mean": round(statistics.fmean(reproj), 3),
        "detect_ms_mean": round(statistics.fmean(det_ms), 1) if det_ms else None,
        "seed": args.seed,
    }
    if not args.json:
        print(f"{n_obj} objects on {args.scenes} tables, {args.cameras} calibrated camera poses: position error "
              f"{out['position_error_cm_mean']} cm mean, {out['position_error_cm_p95']} cm p95; identity "
              f"{out['identity_accuracy']}; missed {missed}, false {false_det}")
    print(json.dumps(out))
    return 0
