"""The Gymnasium env: registered on `import sim`, passes check_env, seeded resets."""
from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

import sim  # noqa: F401  (registers the env)


def test_import_sim_registers_without_pybullet():
    code = "import sys, sim, gymnasium; assert 'robocorrect/Tabletop-v0' in gymnasium.registry; assert 'pybullet' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_check_env_and_seeded_reset():
    env = gym.make("robocorrect/Tabletop-v0", image_size=(64, 48))
    check_env(env.unwrapped, skip_render_check=True)
    a, _ = env.reset(seed=4)
    b, _ = env.reset(seed=4)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert a["rgb"].shape == (48, 64, 3) and a["objects"][:, 7].sum() == 4
    obs, reward, term, trunc, info = env.step(np.array([0, 0, -1, 0, 1], dtype=np.float32))
    assert obs["robot"][2] < a["robot"][2] and not term and isinstance(reward, float)
    out = env.unwrapped.run_skill({"skill": "pick", "args": {"object": info["names"][2]}})
    assert out.success, out.message
    env.close()
