"""Gymnasium environment ``robocorrect/Tabletop-v0``: the Panda at the table, seeded scenes, camera observations.

Action (``Box(-1, 1, (5,))``): TCP delta per env step ``[dx, dy, dz]`` scaled by ``max_delta`` (m, base
frame), ``dyaw`` scaled by ``max_dyaw`` (rad), and the gripper (< 0 close with ``grip_force`` N, ≥ 0 open).
One env step is ``action_repeat`` control ticks (default 6 ticks = 0.1 s at 60 Hz).

Observation (``Dict``): ``robot`` = [tcp x, y, z (m), yaw (rad), gripper width (m), sim time (s)];
``objects`` = ``max_objects`` rows of [x, y, z, yaw, size_x, size_y, size_z, present] in scene order
(zeros when absent); with ``images=True`` also ``rgb`` (H, W, 3 uint8), ``depth`` (H, W float32, m) and
``seg`` (H, W int32 body ids, -1 background) from the fixed scene camera. Images are rendered once per
env step (not per physics step); keep them small.

Reward: +1 each time a block newly lies inside a container, -1 when one leaves; never terminates by
itself; truncates after ``max_steps``. The skill API is the richer interface: :meth:`TabletopEnv.run_skill`.
"""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from hardware.scene import Scene
from sim.scene import random_scene
from sim.world import SimWorld, WorldConfig


class TabletopEnv(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, scene: Scene | None = None, render_mode: str | None = None, images: bool = True,
                 image_size: tuple[int, int] = (80, 60), max_objects: int = 8, action_repeat: int = 6,
                 max_steps: int = 300, max_delta: float = 0.02, max_dyaw: float = 0.2, grip_force: float = 20.0,
                 n_blocks: int = 2, n_bowls: int = 2, tray: bool = False, gui: bool = False) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode {render_mode!r} not supported; use one of {self.metadata['render_modes']}")
        self.render_mode = render_mode
        self.images = images
        self.image_size = image_size
        self.max_objects = max_objects
        self.action_repeat = action_repeat
        self.max_steps = max_steps
        self.max_delta = max_delta
        self.max_dyaw = max_dyaw
        self.grip_force = grip_force
        self.scene_kw = {"n_blocks": n_blocks, "n_bowls": n_bowls, "tray": tray}
        self.fixed_scene = scene
        self.world = SimWorld(scene, WorldConfig(gui=gui))
        w, h = image_size
        obs: dict[str, spaces.Space] = {
            "robot": spaces.Box(-1e4, 1e4, (6,), np.float32),
            "objects": spaces.Box(-1e4, 1e4, (max_objects, 8), np.float32),
        }
        if images:
            obs["rgb"] = spaces.Box(0, 255, (h, w, 3), np.uint8)
            obs["depth"] = spaces.Box(0.0, 10.0, (h, w), np.float32)
            obs["seg"] = spaces.Box(-1, 2 ** 30, (h, w), np.int32)
        self.observation_space = spaces.Dict(obs)
        self.action_space = spaces.Box(-1.0, 1.0, (5,), np.float32)
        self._steps = 0
        self._inside = 0

    # --- gym API ----------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        scene = options.get("scene") or self.fixed_scene
        if scene is None:
            s = int(self.np_random.integers(0, 2 ** 31 - 1)) if seed is None else int(seed)
            scene = random_scene(s, **self.scene_kw)
        self.world.load(scene)
        self._steps = 0
        self._inside = self._count_inside()
        return self._obs(), self._info()

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        a = np.clip(np.asarray(action, dtype=np.float64).reshape(5), -1.0, 1.0)
        robot = self.world.robot
        (x, y, z), yaw = robot.setpoint
        target = (x + a[0] * self.max_delta, y + a[1] * self.max_delta, z + a[2] * self.max_delta)
        new_yaw = yaw + a[3] * self.max_dyaw
        if a[4] < 0:
            robot.set_gripper(0.0, self.grip_force)
        else:
            robot.set_gripper(robot.config.gripper_max_width, self.grip_force)
        for i in range(1, self.action_repeat + 1):
            s = i / self.action_repeat
            robot.servo((x + s * (target[0] - x), y + s * (target[1] - y), z + s * (target[2] - z)), yaw + s * (new_yaw - yaw))
            robot.tick()
        self._steps += 1
        inside = self._count_inside()
        reward = float(inside - self._inside)
        self._inside = inside
        return self._obs(), reward, False, self._steps >= self.max_steps, self._info()

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self.world.render("scene", *self.image_size)["rgb"]
        return None

    def close(self) -> None:
        self.world.close()

    # --- skills -----------------------------------------------------------------------------------
    def run_skill(self, call: dict[str, Any], control: Any = None) -> Any:
        """Run one skill call (``skills.library.run_skill``) on this env's robot and world; returns its Outcome."""
        from skills.library import run_skill

        return run_skill(call, self.world.robot, self.world, control)

    # --- helpers ----------------------------------------------------------------------------------
    def _count_inside(self) -> int:
        w = self.world
        names = w.names()
        return sum(1 for a in names if w.kind(a) == "block" for b in names if w.kind(b) in ("bowl", "tray") and w.is_in(a, b))

    def _obs(self) -> dict[str, np.ndarray]:
        st = self.world.robot.state()
        robot = np.array([*st.tcp_position, st.tcp_yaw, st.gripper_width, st.time_s], dtype=np.float32)
        objs = np.zeros((self.max_objects, 8), dtype=np.float32)
        for i, n in enumerate(self.world.names()[: self.max_objects]):
            (x, y, z), yaw = self.world.pose(n)
            objs[i] = [x, y, z, yaw, *self.world.dims(n), 1.0]
        obs = {"robot": robot, "objects": objs}
        if self.images:
            fr = self.world.render("scene", *self.image_size)
            obs.update(rgb=fr["rgb"], depth=fr["depth"], seg=fr["seg"])
        return obs

    def _info(self) -> dict[str, Any]:
        return {"names": self.world.names(), "held": self.world.held(), "time_s": self.world.time_s}
