"""Grounding off the control loop: in real-time mode a correction said while the arm moves is grounded in a
worker thread, never in the thread that ticks the robot, and still reaches the motion; `bench control`."""
from __future__ import annotations

import json
import threading
import time

import pytest

from agent.channel import Cue, ScriptedChannel
from agent.session import SessionConfig, TeachingSession
from hardware.scene import BOWL_HEIGHT, Scene, SceneObject

TASK = "put the red block in the green bowl"


def table() -> Scene:
    return Scene(objects=[
        SceneObject("red block", "block", "red", 0.04, (0.48, -0.1, 0.02)),
        SceneObject("green bowl", "bowl", "green", 0.16, (0.54, 0.12, BOWL_HEIGHT / 2), mass=0.3),
    ])


class SlowPolicy:
    """The real policy, 80 ms slower to ground, remembering which thread grounded."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.threads = inner, inner.name, []

    def plan(self, *a):
        return self.inner.plan(*a)

    def ground(self, *a):
        self.threads.append(threading.current_thread())
        time.sleep(0.08)
        return self.inner.ground(*a)


@pytest.mark.parametrize("in_worker", [True, False])
def test_a_correction_during_motion_is_grounded_off_the_tick_thread(policy, in_worker) -> None:
    from sim.world import SimWorld

    slow = SlowPolicy(policy)
    world = SimWorld(table())
    try:  # 2x real time: on a loaded CPU (load 6 on 2 cores) the place ended before grounding did at 8x
        s = TeachingSession.for_sim(world, slow, config=SessionConfig(frames=False, real_time_factor=2.0,
                                                                      ground_in_worker=in_worker))
        ch = ScriptedChannel([Cue("3 cm to the left", at="moving", skill="place", tick=10), Cue("done", at="idle")])
        summary = s.run_episode(TASK, ch, scene=table())
    finally:
        world.close()
    assert summary.success is True
    corr = [c for c in s.corrections if c.changes]
    assert corr and corr[0].during_motion and corr[0].action == "replace_args"
    place = [o for _, o in s.outcomes if o.skill == "place"][-1]
    assert place.error_xy[1] == pytest.approx(0.03, abs=0.01)
    tick_thread = threading.current_thread()  # run_episode ran here, so the robot ticked here
    assert (slow.threads[0] is not tick_thread) == in_worker


def test_bench_control_prints_its_figures(capsys) -> None:
    from agent.cli import main

    assert main(["bench", "control", "--corrections", "3", "--rate", "4", "--json"]) == 0
    r = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert r["corrections"] == 3 and r["mode"] == "worker" and r["ticks"] > 50
    for k in ("nominal_tick_ms", "tick_ms_p50", "tick_ms_p99"):
        assert r[k] > 0
