"""``robocorrect bench skills``: default pick-and-place on seeded random quirk-free scenes.

Each episode builds ``random_scene(seed + i)`` and runs ``pick(first block)`` then ``place(first bowl)``
with default arguments, headless, no rendering. Prints the success rate, mean wall-clock seconds per
episode and the real-time factor (simulated seconds / wall seconds of the skill execution; scene
building excluded and reported separately; ``real_time_factor_cpu`` divides by this process's CPU time
instead, which is what the figure would be on an idle machine). With ``--json`` the last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--episodes", type=int, default=50, help="number of episodes (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="first scene seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.add_argument("--blocks", type=int, default=2, help="blocks per scene")
    parser.add_argument("--bowls", type=int, default=2, help="bowls per scene")


def bench(episodes: int = 50, seed: int = 0, n_blocks: int = 2, n_bowls: int = 2, verbose: bool = False) -> dict[str, Any]:
    """Run the benchmark and return its figures."""
    from sim.scene import random_scene
    from sim.world import SimWorld
    from skills.library import run_plan

    world = SimWorld()
    ok = 0
    sim_s = wall_s = build_s = cpu_s = 0.0
    errors: list[float] = []
    failures: dict[str, int] = {}
    for i in range(episodes):
        t0 = time.perf_counter()
        scene = random_scene(seed + i, n_blocks=n_blocks, n_bowls=n_bowls)
        world.load(scene)
        build_s += time.perf_counter() - t0
        block = next(o.name for o in scene.objects if o.kind == "block")
        bowl = next(o.name for o in scene.objects if o.kind == "bowl")
        plan = [{"skill": "pick", "args": {"object": block}}, {"skill": "place", "args": {"target": bowl}}]
        t1, c1 = time.perf_counter(), time.process_time()
        outs = run_plan(plan, world.robot, world)
        wall_s += time.perf_counter() - t1
        cpu_s += time.process_time() - c1
        sim_s += sum(o.duration_s for o in outs)
        success = len(outs) == 2 and outs[-1].success
        ok += success
        if not success:
            code = outs[-1].failure or "unknown"
            failures[code] = failures.get(code, 0) + 1
            if verbose:
                print(f"  seed {seed + i}: {outs[-1].skill} failed: {outs[-1].message}")
        if outs[-1].error_xy is not None and success:
            errors.append(math.hypot(*outs[-1].error_xy))
    world.close()
    n = max(episodes, 1)
    return {
        "episodes": episodes,
        "success_rate": ok / n,
        "mean_wall_s": wall_s / n,
        "mean_sim_s": sim_s / n,
        "real_time_factor": sim_s / wall_s if wall_s > 0 else float("inf"),
        "real_time_factor_cpu": sim_s / cpu_s if cpu_s > 0 else float("inf"),
        "mean_build_s": build_s / n,
        "mean_place_error_cm": 100 * sum(errors) / len(errors) if errors else None,
        "failures": failures,
    }


def run(args: argparse.Namespace) -> int:
    if args.episodes < 1:
        print("--episodes must be at least 1")
        return 2
    r = bench(args.episodes, args.seed, args.blocks, args.bowls, verbose=True)
    print(f"episodes          {r['episodes']}")
    print(f"success_rate      {r['success_rate']:.3f}")
    print(f"mean_wall_s       {r['mean_wall_s']:.3f}  (skill execution per episode)")
    print(f"mean_sim_s        {r['mean_sim_s']:.2f}")
    print(f"real_time_factor  {r['real_time_factor']:.1f}  (simulated s / wall s; {r['real_time_factor_cpu']:.1f} per CPU s of this process)")
    print(f"mean_build_s      {r['mean_build_s']:.3f}  (scene reload, not in the factor)")
    if r["mean_place_error_cm"] is not None:
        print(f"place error       {r['mean_place_error_cm']:.2f} cm mean (successful places)")
    if r["failures"]:
        print(f"failures          {r['failures']}")
    if args.json:
        print(json.dumps(r))
    return 0
