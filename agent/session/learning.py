"""Knowledge in a session: what the knowledge base gives a task (retrieved, applied to the plan the same way
for every policy), which entries changed which step (for "don't do that again"), and the learning hook that
gives an ended episode to the knowledge base. Without a knowledge base (memory off) it applies nothing and
learns nothing."""
from __future__ import annotations

import copy
from typing import Any, Callable, Optional

from agent.session.plan_editor import MOTION_ARGS, call_key
from agent.session.types import Entry, KnowledgeStore, Plan, SessionConfig
from hardware.base import World
from hardware.scene import Scene
from skills.schema import validate_call, validate_plan


def object_images(world: World, scene: Optional[Scene]) -> Optional[dict[str, Any]]:
    """RGB crops of every scene object from one scene-camera render (appearance-based memory); None when the
    world has no camera."""
    if scene is None:
        return None
    frame = world.render("scene", 320, 240)
    if frame is None:
        return None
    crops = {o.name: world.object_crop(o.name, width=320, height=240, frame=frame) for o in scene.objects}
    return {k: v for k, v in crops.items() if v is not None} or None


class KnowledgeHook:
    """``knowledge``: the entries in use this episode; ``notes``: what they changed, in words."""

    def __init__(self, kb: Optional[KnowledgeStore], config: SessionConfig) -> None:
        self.kb = kb
        self.config = config
        self.knowledge: list[Entry] = []
        self.notes: list[str] = []
        self.by_key: dict[tuple[str, str], list[Entry]] = {}
        self.last_ingest: Optional[dict[str, Any]] = None

    @property
    def memory_on(self) -> bool:
        return self.kb is not None

    def reset(self) -> None:
        self.knowledge, self.notes, self.by_key = [], [], {}

    def retrieve(self, task: str, contract: dict[str, Any], plan: Optional[Plan],
                 images: Optional[dict[str, Any]] = None) -> list[Entry]:
        if self.kb is None:
            return []
        return [dict(e) for e in self.kb.retrieve(task, contract, plan=plan, images=images, k=self.config.knowledge_k)]

    def add(self, entries: list[Entry]) -> None:
        """Use these entries too (those already in use are skipped)."""
        seen = {e.get("id") for e in self.knowledge}
        self.knowledge += [e for e in entries if e.get("id") not in seen]

    @staticmethod
    def apply(plan: Plan, contract: dict[str, Any], knowledge: list[Entry], task: str) -> tuple[Plan, list[str], dict[int, list[Any]]]:
        """``(new plan, notes, {step index: ids of the entries that changed it})``."""
        if not knowledge:
            return copy.deepcopy(plan), [], {}
        from memory.knowledge import apply_knowledge_detailed

        new, notes, applied = apply_knowledge_detailed(copy.deepcopy(plan), contract, knowledge, task=task or None)
        return validate_plan(new, contract), list(notes), dict(applied)

    def plan_for(self, task: str, contract: dict[str, Any], base: Plan, first: list[Entry],
                 images: Optional[dict[str, Any]]) -> Plan:
        """The initial plan: ``base`` with the knowledge for the task (``first``: retrieved before there was a
        plan) and for its steps applied; remembers which entries changed which step."""
        self.knowledge = list(first)
        if self.kb is not None:
            self.add(self.retrieve(task, contract, base, images))
        plan, self.notes, applied = self.apply(base, contract, self.knowledge, task)
        by_id = {e.get("id"): e for e in self.knowledge}
        self.by_key = {call_key(plan[i]): [by_id[k] for k in ids if k in by_id] for i, ids in applied.items()}
        return plan

    def retune(self, new: Plan, changed: list[int], initial: Plan, contract: dict[str, Any], task: str) -> Plan:
        """Steps ``changed`` (retargeted: "no, the blue one") drop the tuning meant for the old object and take
        the skill's defaults plus the knowledge that matches the new one; otherwise a quirk learned for the red
        block would ride along onto the blue one and be learned again. Arguments about the motion itself
        (:data:`MOTION_ARGS`) that the user changed (they differ from ``initial``, the plan the episode began
        with: an earlier "slower") are kept and win over knowledge."""
        if not changed:
            return new
        new = copy.deepcopy(new)
        said: dict[int, dict[str, Any]] = {}
        for i in changed:
            was = initial[i]["args"] if i < len(initial) and initial[i]["skill"] == new[i]["skill"] else {}
            said[i] = {k: new[i]["args"][k] for k in MOTION_ARGS if k in new[i]["args"] and new[i]["args"][k] != was.get(k)}
            keep = {k: v for k, v in new[i]["args"].items() if k in ("object", "target")}
            new[i] = validate_call({"skill": new[i]["skill"], "args": {**keep, **said[i]}}, contract)
        if self.kb is not None:
            self.add(self.retrieve(task, contract, new))
        tuned, _notes, applied = self.apply(new, contract, self.knowledge, task)
        by_id = {e.get("id"): e for e in self.knowledge}
        for i in changed:
            new[i] = tuned[i]
            new[i]["args"].update(said[i])
            ids = applied.get(i, [])
            if ids:
                self.by_key[call_key(new[i])] = [by_id[k] for k in ids if k in by_id]
        return new

    def entries_for(self, call: Optional[dict[str, Any]]) -> list[Entry]:
        """The entries that changed the step ``call``."""
        return self.by_key.get(call_key(call), []) if call else []

    def forget(self, entries: list[Entry], plan: Plan, base_plan: Plan, ref: int, contract: dict[str, Any],
               task: str) -> tuple[Plan, list[Any]]:
        """"Don't do that again": weaken ``entries`` in the knowledge base, stop using them, and put the
        arguments they changed in step ``ref`` back to what the plan would be without them. Returns the new
        plan and the weakened ids."""
        ids = [e.get("id") for e in entries]
        if self.kb is not None:
            for i in ids:
                self.kb.weaken(i)
        call = plan[ref]
        touched = {ch.get("arg") for e in entries for ch in (e.get("effect") or {}).get("changes", [])}
        keep = [e for e in self.knowledge if e.get("id") not in ids]
        # the step as planned before any knowledge (the base plan's, or the skill's defaults for a step that
        # was retargeted since), with the remaining knowledge applied in the context of the current plan
        untuned = next((c for c in base_plan if call_key(c) == call_key(call)), None) or validate_call(
            {"skill": call["skill"], "args": {k: v for k, v in call["args"].items() if k in ("object", "target")}}, contract)
        ref_call = self.apply(plan[:ref] + [untuned] + plan[ref + 1:], contract, keep, task)[0][ref]
        new = copy.deepcopy(plan)
        for a in touched:
            if a in ref_call["args"]:
                new[ref]["args"][a] = copy.deepcopy(ref_call["args"][a])
        self.knowledge = keep
        for k in list(self.by_key):
            self.by_key[k] = [e for e in self.by_key[k] if e.get("id") not in ids]
        return new, ids

    def learn(self, episode: Optional[dict[str, Any]], images: Optional[dict[str, Any]],
              trial: Optional[Callable[..., Optional[bool]]] = None) -> Optional[str]:
        """Give the ended episode's record to the knowledge base (``config.learn``, memory on); returns what
        happened in words, None when there was nothing to do. ``trial``: a replay of the episode in a simulator
        (``memory.rerun.StepTrial``) for credit by re-running. Raises what ``kb.ingest`` raises."""
        if not (self.config.learn and self.kb is not None and episode is not None):
            return None
        rep = (self.kb.ingest(episode, images=images, trial=trial) if trial is not None
               else self.kb.ingest(episode, images=images)).to_dict()
        parts = [f"{k} {', '.join(f'#{i}' for i in rep[k])}" for k in ("added", "merged", "confirmed", "weakened") if rep.get(k)]
        self.last_ingest = rep
        return "memory: " + ("; ".join(parts) if parts else rep.get("skipped") or "nothing new")
