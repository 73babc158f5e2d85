"""Random tabletop scenes for the simulator and the benchmarks (the scene model is :mod:`hardware.scene`)."""
from __future__ import annotations

import math
import random

from hardware.scene import BLOCK_SIZES, BOWL_DIAMETER, BOWL_HEIGHT, TRAY_HEIGHT, TRAY_SIZE, Scene, SceneError, SceneObject, object_name

# Workspace on the table that the Panda reaches comfortably (base frame, m).
WORKSPACE_X = (0.35, 0.68)
WORKSPACE_Y = (-0.3, 0.3)



def _free_spot(rng: random.Random, placed: list[tuple[float, float, float]], radius: float, tries: int = 500) -> tuple[float, float]:
    for _ in range(tries):
        x = rng.uniform(WORKSPACE_X[0] + radius * 0.5, WORKSPACE_X[1] - radius * 0.5)
        y = rng.uniform(WORKSPACE_Y[0] + radius * 0.5, WORKSPACE_Y[1] - radius * 0.5)
        if all(math.hypot(x - px, y - py) > radius + pr + 0.03 for px, py, pr in placed):
            return x, y
    raise SceneError("could not place all objects without overlap; ask for fewer objects")


def random_scene(
    seed: int,
    n_blocks: int = 2,
    n_bowls: int = 2,
    tray: bool = False,
    sizes: tuple[str, ...] = ("medium",),
    colors: tuple[str, ...] | None = None,
) -> Scene:
    """A seeded random, quirk-free tabletop: ``n_blocks`` blocks, ``n_bowls`` bowls, optionally a gray tray.

    Colours of blocks are distinct among blocks, bowls among bowls; the same seed always gives the same scene.
    """
    rng = random.Random(seed)
    palette = list(colors or ("red", "green", "blue", "yellow", "orange", "purple"))
    if n_blocks > len(palette) or n_bowls > len(palette):
        raise SceneError(f"at most {len(palette)} blocks and {len(palette)} bowls with distinct colours")
    placed: list[tuple[float, float, float]] = []
    objects: list[SceneObject] = []
    if tray:
        x, y = _free_spot(rng, placed, TRAY_SIZE / 2)
        placed.append((x, y, TRAY_SIZE / 2))
        objects.append(SceneObject("gray tray", "tray", "gray", TRAY_SIZE, (x, y, TRAY_HEIGHT / 2), mass=0.5))
    for c in rng.sample(palette, n_bowls):
        x, y = _free_spot(rng, placed, BOWL_DIAMETER / 2)
        placed.append((x, y, BOWL_DIAMETER / 2))
        objects.append(SceneObject(object_name(c, "bowl"), "bowl", c, BOWL_DIAMETER, (x, y, BOWL_HEIGHT / 2), mass=0.3))
    for c in rng.sample(palette, n_blocks):
        sw = rng.choice(sizes)
        s = BLOCK_SIZES[sw]
        x, y = _free_spot(rng, placed, s * 0.75)
        placed.append((x, y, s * 0.75))
        objects.append(SceneObject(object_name(c, "block", sw), "block", c, s, (x, y, s / 2), yaw=rng.uniform(-0.6, 0.6)))
    return Scene(objects=objects, seed=seed)
