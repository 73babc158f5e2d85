"""A spoken "stop" during a motion: the arm halts within one control tick of the spotter's detection
(real PyBullet sim, real audio through the microphone's path at real-time pace, real stop spotter)."""
from __future__ import annotations

import threading
import time

from agent.channel import Channel, PollContext
from agent.voice import VoiceInput
from hardware.scene import BOWL_HEIGHT, Scene, SceneObject
from speech.config import SpeechConfig

PLAN = [{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "green bowl"}}]


class _Recording(Channel):
    """A plain channel that notes (wall time, phase, tick) of every poll the session makes."""

    def __init__(self) -> None:
        super().__init__()
        self.polls: list[tuple[float, str, int]] = []

    def poll(self, ctx: PollContext | None = None):
        if ctx is not None:
            self.polls.append((time.perf_counter(), ctx.phase, ctx.tick))
        return super().poll(ctx)


def test_spoken_stop_halts_the_arm_within_one_tick(say, whisper, spotter) -> None:
    from agent.session import SessionConfig, TeachingSession
    from sim.world import SimWorld

    scene = Scene(objects=[SceneObject("red block", "block", "red", 0.04, (0.48, -0.1, 0.02)),
                           SceneObject("green bowl", "bowl", "green", 0.16, (0.54, 0.12, BOWL_HEIGHT / 2), mass=0.3)])
    world = SimWorld(scene)
    try:
        s = TeachingSession.for_sim(world, None, config=SessionConfig(frames=False, real_time_factor=1.0))
        s.start("put the red block in the green bowl", scene, plan=PLAN)
        ch = _Recording()
        s.channel = ch
        wav = say("stop", "en-us", 160, pad_s=1.2)
        detected: list[float] = []

        def on_stop(hit) -> None:
            detected.append(time.perf_counter())
            ch.put("stop", source="voice", spotted=hit.word)

        cfg = SpeechConfig(source="file", files=(str(wav),), realtime=True)
        v = VoiceInput(cfg, ch, on_stop=on_stop, show=lambda m: None, recognizer=whisper, spotter=spotter)
        voice = threading.Thread(target=v.run, daemon=True)
        voice.start()
        out = s.step()  # the pick moves in real time; the voice thread speaks meanwhile
        voice.join(timeout=10)
        assert detected, "the spotter did not hear the stop"
        assert out.stopped and not out.success
        moving_after = [p for p in ch.polls if p[1] == "moving" and p[0] > detected[0]]
        assert len(moving_after) <= 1  # the stop was taken at the next tick and the skill returned before another
        assert s.paused and s.cursor == 0
    finally:
        world.close()
