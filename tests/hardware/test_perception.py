"""Perception on real PyBullet renders: calibration from a rendered ChArUco board, then blocks and bowls
located in the base frame (the CameraWorld answers like the simulator's World)."""
from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

from hardware.perception import PerceptionError
from hardware.perception.calibration import BoardSpec, Calibration, calibrate
from hardware.perception.camera import Camera, Frame, Intrinsics
from hardware.perception.segment import colour_labels, PALETTE, SegmentConfig
from hardware.perception.world import CameraWorld
from hardware.scene import Scene, SceneObject


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    """A simulated table, the scene camera calibrated from the rendered board."""
    import cv2

    from agent.bench.perception import _add_board, _render, _true_T_base_cam
    from hardware.perception.calibration import board_image
    from sim.world import SimWorld

    spec = BoardSpec()
    png = str(tmp_path_factory.mktemp("board") / "board.png")
    cv2.imwrite(png, board_image(spec))
    world = SimWorld(Scene(objects=[]))
    cam = world.config.scene_camera
    board = _add_board(world, spec, png)
    frame, view = _render(world, cam, 1280, 960)
    world.client.removeBody(board)
    cal = calibrate(frame["rgb"], Intrinsics.from_fov(cam.fov_deg, 1280, 960), spec)
    cal.intrinsics = Intrinsics.from_fov(cam.fov_deg, 640, 480)
    yield world, cal, _true_T_base_cam(view)
    world.close()


class SimCamera(Camera):
    def __init__(self, world, depth=True) -> None:
        self.world, self.depth = world, depth
        self.intrinsics = Intrinsics.from_fov(world.config.scene_camera.fov_deg, 640, 480)

    def read(self) -> Frame:
        fr = self.world.render("scene", 640, 480)
        return Frame(fr["rgb"], fr["depth"] if self.depth else None)


SCENE = Scene(objects=[
    SceneObject("red block", "block", "red", 0.04, (0.45, 0.12, 0.02), yaw=0.3),
    SceneObject("small blue block", "block", "blue", 0.03, (0.6, -0.05, 0.015)),
    SceneObject("green bowl", "bowl", "green", 0.16, (0.5, -0.22, 0.03)),
])


def test_calibration_matches_the_true_camera_pose(rig):
    _, cal, true_T = rig
    assert np.linalg.norm(cal.T_base_cam[:3, 3] - true_T[:3, 3]) < 0.005  # m
    dR = cal.T_base_cam[:3, :3].T @ true_T[:3, :3]
    assert math.degrees(math.acos(min(1.0, (np.trace(dR) - 1) / 2))) < 0.5
    assert cal.reprojection_px < 1.0 and cal.corners >= 20


def test_calibration_round_trips_and_bad_files_are_named(rig, tmp_path):
    _, cal, _ = rig
    back = Calibration.load(cal.save(tmp_path / "cal.json"))
    assert np.allclose(back.T_base_cam, cal.T_base_cam) and back.intrinsics == cal.intrinsics
    with pytest.raises(PerceptionError, match="no camera calibration file"):
        Calibration.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(PerceptionError, match="not a camera calibration file"):
        Calibration.load(tmp_path / "bad.json")


def test_no_board_in_view_is_a_clear_error():
    with pytest.raises(PerceptionError, match="found 0 ChArUco corners"):
        calibrate(np.full((480, 640, 3), 128, np.uint8), Intrinsics.from_fov(50, 640, 480), BoardSpec())


def test_camera_world_sees_the_simulators_scene(rig):
    world, cal, _ = rig
    world.load(SCENE)
    world.settle(0.3)
    seen = CameraWorld(SimCamera(world), cal)
    assert sorted(seen.names()) == sorted(world.names())
    for name in world.names():
        (x, y, z), _ = world.pose(name)
        (sx, sy, sz), _ = seen.pose(name)
        assert math.dist((x, y, z), (sx, sy, sz)) < 0.01, name
        assert seen.kind(name) == world.kind(name)
    assert seen.dims("red block") == pytest.approx((0.04, 0.04, 0.04), abs=0.006)
    assert seen.is_in("red block", "green bowl") is False
    assert seen.render()["rgb"].shape == (480, 640, 3)


def test_rgb_only_camera_is_less_exact_but_finds_the_objects(rig):
    world, cal, _ = rig
    world.load(SCENE)
    world.settle(0.3)
    seen = CameraWorld(SimCamera(world, depth=False), cal)
    assert {n.split(" ")[-2] for n in seen.names()} >= {"red", "blue", "green"}


def test_palette_labels_pure_colours():
    from hardware.scene import COLORS

    cfg = SegmentConfig()
    for name in PALETTE:
        r, g, b, _ = COLORS[name]
        px = np.array([[[int(255 * r), int(255 * g), int(255 * b)]]], np.uint8)
        lab, names = colour_labels(px, cfg)
        assert names[lab[0, 0]] == name
    lab, _ = colour_labels(np.array([[[184, 153, 115]]], np.uint8), cfg)  # the table's wood
    assert lab[0, 0] == -1
