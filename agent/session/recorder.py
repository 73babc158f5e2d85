"""Writes one episode down: the episode log's records (begin, steps, corrections, utterances, notes, end)
and the camera frames. Without a log (``log`` None) it records nothing and every call is a no-op."""
from __future__ import annotations

import copy
import time
from typing import Any, Optional

from agent.session.types import CorrectionResult, EpisodeLogStore, Plan, SessionConfig, SkillCall
from hardware.base import World
from hardware.scene import Scene
from skills.base import Outcome


class EpisodeRecorder:
    """The episode log record and camera frames of the current episode (``episode_id``, ``frames``)."""

    def __init__(self, log: Optional[EpisodeLogStore], world: World, config: SessionConfig) -> None:
        self.log = log
        self.world = world
        self.config = config
        self.episode_id: Optional[str] = None
        self.frames: list[str] = []

    @property
    def active(self) -> bool:
        return self.log is not None and self.episode_id is not None

    def begin(self, task: str, scene: Scene, policy: str, base: Plan, initial: Plan, knowledge: list[dict[str, Any]],
              notes: list[str], episode_id: Optional[str]) -> Optional[str]:
        """Open the episode record; returns its id (None without a log)."""
        self.episode_id, self.frames = None, []
        if self.log is None:
            return None
        used = [{"id": e.get("id"), "text": e.get("text"), "effect": e.get("effect")} for e in knowledge]
        self.episode_id = self.log.begin(task, scene.to_dict(), policy, base, initial, used, episode_id=episode_id,
                                         meta={"knowledge_notes": notes})
        return self.episode_id

    def frame(self, label: str) -> Optional[str]:
        """Save what the scene camera sees now (``config.frames``); returns the frame's path in the log."""
        if not (self.config.frames and self.log is not None and self.episode_id):
            return None
        w, h = self.config.frame_size
        img = self.world.render(self.config.frame_camera, width=w, height=h)
        if img is None:  # a world without a camera
            return None
        rel = self.log.save_frame(self.episode_id, img["rgb"], label)
        self.frames.append(rel)
        return rel

    def note(self, data: dict[str, Any]) -> None:
        if self.log is not None and self.episode_id:
            self.log.log(self.episode_id, "note", data)

    def step(self, index: int, call: SkillCall, outcome: Outcome, t: float) -> None:
        if self.log is not None and self.episode_id:
            self.log.log_step(self.episode_id, index, call, outcome, t=t)

    def utterance(self, r: CorrectionResult) -> None:
        """A plan-changing result goes to the log as a correction; anything else as an utterance.

        "don't do that again" already weakened the knowledge (``kb.weaken``); it is logged as an utterance
        plus a plan change, not as a correction, so that ``kb.ingest`` does not weaken the same entries twice."""
        if self.log is None or not self.episode_id:
            return
        if r.changed and r.kind != "dont_again":
            self.log.log_correction(self.episode_id, {
                "utterance": r.utterance, "step": r.step, "level": r.level, "before": r.before, "after": r.after,
                "changes": r.changes, "parsed": {**r.parsed, "kind": r.kind, "action": r.action},
                "t": time.time(), "during_motion": r.during_motion,
            })
            return
        self.log.log(self.episode_id, "utterance", {
            "utterance": r.utterance, "kind": r.kind, "level": r.level, "step": r.step, "action": r.action,
            "question": r.question, "during_motion": r.during_motion, "changes": r.changes,
        })
        if r.changed:
            self.log.log_plan(self.episode_id, r.after, reason=f"{r.utterance!r}: {'; '.join(r.changes)}")

    def end(self, success: Optional[bool], plan: Plan, status: str, reason: str) -> None:
        if self.log is not None and self.episode_id:
            self.log.end(self.episode_id, success, final_plan=copy.deepcopy(plan), status=status, reason=reason)

    def load(self) -> Optional[dict[str, Any]]:
        """The episode's record as logged, or None without a log."""
        return self.log.load(self.episode_id) if self.log is not None and self.episode_id else None
