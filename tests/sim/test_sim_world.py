"""SimWorld: building from scenes, queries by name, cameras, and seeded determinism."""
from __future__ import annotations

import math

import numpy as np
import pytest

from hardware.scene import Scene, SceneError, SceneObject
from sim.scene import random_scene
from sim.camera import FrameRecorder, save_strip
from sim.world import SimWorld
from skills.base import SkillControl
from skills.library import run_plan, run_skill

SCENE = Scene(objects=[
    SceneObject("red block", "block", "red", 0.04, (0.52, -0.12, 0.02), yaw=0.3),
    SceneObject("small blue block", "block", "blue", 0.03, (0.6, 0.05, 0.015)),
    SceneObject("green bowl", "bowl", "green", 0.16, (0.45, 0.2, 0.03)),
    SceneObject("gray tray", "tray", "gray", 0.24, (0.55, -0.32, 0.01)),
], seed=3)


@pytest.fixture(scope="module")
def world():
    w = SimWorld(SCENE)
    yield w
    w.close()


def test_bodies_by_name_match_the_scene(world):
    world.load(SCENE)
    assert world.names() == SCENE.names
    (x, y, z), yaw = world.pose("red block")
    assert math.hypot(x - 0.52, y + 0.12) < 0.002 and abs(z - 0.02) < 0.002 and abs(yaw - 0.3) < 0.01
    assert world.dims("small blue block") == (0.03, 0.03, 0.03)
    assert world.kind("gray tray") == "tray"
    assert "table" in world.contacts("red block")
    assert world.is_on("red block", "table")
    assert world.held() is None
    with pytest.raises(SceneError, match="there is no purple block; I see: red block"):
        world.pose("purple block")


def test_held_in_and_on_follow_the_physics(world):
    world.load(SCENE)
    seen = []
    ctl = SkillControl(on_tick=lambda t, s, c: seen.append(world.held()) if t % 10 == 0 else None)
    out = run_skill({"skill": "pick", "args": {"object": "red block"}}, world.robot, world, ctl)
    assert out.success and world.held() == "red block"
    assert seen[0] is None
    assert not world.is_in("red block", "gray tray")
    out = run_skill({"skill": "place", "args": {"target": "gray tray"}}, world.robot, world)
    assert out.success, out.message
    assert world.is_in("red block", "gray tray") and world.held() is None
    assert not world.is_in("red block", "green bowl")
    assert "gray tray" in world.contacts("red block")


def test_render_scene_and_wrist_cameras(world):
    world.load(SCENE)
    fr = world.render("scene", 96, 72)
    assert fr["rgb"].shape == (72, 96, 3) and fr["rgb"].dtype == np.uint8
    assert fr["depth"].shape == (72, 96) and fr["depth"].dtype == np.float32
    assert 0.3 < float(fr["depth"].min()) < float(fr["depth"].max()) < 3.0
    assert fr["seg"].shape == (72, 96) and world.body("green bowl") in set(np.unique(fr["seg"]).tolist())
    wr = world.render("wrist", 64, 48)
    assert wr["rgb"].shape == (48, 64, 3)
    with pytest.raises(ValueError, match="unknown camera"):
        world.render("ceiling")


def test_object_crop_shows_the_object_colour(world, tmp_path):
    world.load(SCENE)
    crop = world.object_crop("green bowl", size=48)
    assert crop.shape == (48, 48, 3)
    r, g, b = crop.reshape(-1, 3).mean(axis=0)
    assert g > r and g > b
    red = world.object_crop("red block", size=32)
    assert red.reshape(-1, 3).mean(axis=0)[0] > red.reshape(-1, 3).mean(axis=0)[2]
    rec = FrameRecorder(world, every_s=0.5, size=(64, 48))
    run_skill({"skill": "pick", "args": {"object": "red block"}}, world.robot, world, SkillControl(on_tick=rec))
    assert 3 <= len(rec.frames) <= 20 and rec.frames[0].shape == (48, 64, 3)
    path = save_strip(rec.frames, tmp_path / "strip.png", max_per_row=4)
    assert path.exists() and path.stat().st_size > 100


def _episode(world: SimWorld, scene: Scene) -> dict[str, list[float]]:
    world.load(scene)
    block = next(o.name for o in scene.objects if o.kind == "block")
    bowl = next(o.name for o in scene.objects if o.kind == "bowl")
    outs = run_plan([{"skill": "pick", "args": {"object": block}}, {"skill": "place", "args": {"target": bowl}}], world.robot, world)
    return {"poses": world.poses(), "ok": [o.success for o in outs], "t": world.time_s}


def test_same_seed_same_result_and_scene_round_trip(world, tmp_path):
    a = _episode(world, random_scene(11))
    other = SimWorld(random_scene(5))
    b = _episode(other, random_scene(11))
    random_scene(11).save(tmp_path / "s.json")
    c = _episode(other, Scene.load(tmp_path / "s.json"))
    other.close()
    assert a["ok"] == [True, True]
    assert a == b == c
    d = _episode(world, random_scene(12))
    assert d["poses"] != a["poses"]
