"""End to end in the simulator: a quirk taught by correction on two small blocks of different colours is remembered
(FAISS knowledge base) at the scope the evidence supports (small blocks), so a fresh episode in a new scene with
the same kind of quirk succeeds with zero corrections, while a control episode outside that scope is left alone.

Real parts throughout: the PyBullet Panda, the embedded policy, the episode log and the knowledge base
with MiniLM text embeddings.
"""
from __future__ import annotations

from pathlib import Path

from agent.channel import Cue, ScriptedChannel
from agent.session import SessionConfig, TeachingSession
from memory.episodes import EpisodeLog
from sim.quirks import add_quirk
from hardware.scene import BOWL_HEIGHT, Scene, SceneObject


def small_block_scene(color: str, block_xy: tuple[float, float], bowl: str, bowl_xy: tuple[float, float]) -> Scene:
    return Scene(objects=[
        SceneObject(f"small {color} block", "block", color, 0.03, (*block_xy, 0.015)),
        SceneObject("red block", "block", "red", 0.04, (0.62, 0.25, 0.02)),
        SceneObject(f"{bowl} bowl", "bowl", bowl, 0.16, (*bowl_xy, BOWL_HEIGHT / 2), mass=0.3),
    ])


def test_taught_quirk_needs_no_correction_next_time_and_stays_in_scope(policy, tmp_path: Path) -> None:
    from memory.kb import KnowledgeBase
    from sim.world import SimWorld

    first = add_quirk(small_block_scene("blue", (0.45, -0.12), "green", (0.55, 0.12)), "small_grasp", "small blue block")
    world = SimWorld(first)
    cfg = SessionConfig(frames=False)
    try:
        with EpisodeLog(tmp_path / "episodes") as log, KnowledgeBase(tmp_path / "kb") as kb:
            # Episode 1: the default grasp misses the small block; "lower" after the failure fixes it.
            s = TeachingSession.for_sim(world, policy, kb=kb, log=log, config=cfg)
            ch = ScriptedChannel([Cue("lower", at="after_step", step=0, failed=True), Cue("done", at="idle")])
            one = s.run_episode("put the small blue block in the green bowl", ch, scene=first)
            assert one.success is True and one.corrections >= 1
            assert kb.list(), "the successful episode was distilled into knowledge"

            # Episode 2: a small block of another colour: taught once on a blue one, the lesson does not cover it yet
            second = add_quirk(small_block_scene("yellow", (0.5, 0.15), "purple", (0.5, -0.15)), "small_grasp", "small yellow block")
            s = TeachingSession.for_sim(world, policy, kb=kb, log=log, config=cfg)
            ch = ScriptedChannel([Cue("lower", at="after_step", step=0, failed=True), Cue("done", at="idle")])
            two = s.run_episode("put the small yellow block in the purple bowl", ch, scene=second)
            assert not s.knowledge_notes and two.success is True and two.corrections >= 1
            (lesson,) = kb.list()  # the same lesson on two colours: its scope is now small blocks, any colour
            assert lesson.conditions == {"skill": "pick", "object_kind": "block", "object_size": "small"}

            # Episode 3: another small block, colour, bowl and position: no correction is needed.
            third = add_quirk(small_block_scene("green", (0.45, -0.1), "orange", (0.5, 0.15)), "small_grasp", "small green block")
            s = TeachingSession.for_sim(world, policy, kb=kb, log=log, config=cfg)
            three = s.run_episode("put the small green block in the orange bowl", ScriptedChannel([Cue("done", at="idle")]), scene=third)
            assert s.knowledge_notes, "knowledge about small blocks was applied before the robot moved"
            assert "scope: small blocks" in s.knowledge_notes[0]
            assert s.initial_plan[0]["args"]["offset"][2] < s.base_plan[0]["args"]["offset"][2]
            assert three.success is True and three.corrections == 0
            assert kb.get(lesson.id).sources == lesson.sources  # applied, not taught: no new source

            # Control: a medium block is outside the knowledge's scope; its pick is left as planned.
            s = TeachingSession.for_sim(world, policy, kb=kb, log=None, config=SessionConfig(frames=False, learn=False))
            s.start("put the red block in the purple bowl", second)
            assert s.initial_plan == s.base_plan and not s.knowledge_notes
    finally:
        world.close()
