"""Lessons from one episode without a knowledge base (``distill_episode``), and the plan-difference helpers.

What is learned is what the corrections taught, not the difference between plans: :func:`memory.credit.assign`
credits only the parts of corrections that answered a problem and after which the step succeeded, each as its
own lesson (one argument component, one direction) at the most specific scope, the object it was taught on
(:mod:`memory.scope`). Knowledge that was applied and not corrected is never re-learned. Failed, aborted or
unfinished episodes teach nothing. The knowledge base (:class:`memory.learning.Learner`) then merges lessons
across episodes and widens their scope from evidence.

Only public scene fields are read (name, kind, colour, size); the hidden quirks in ``episode['scene']`` never are.
"""
from __future__ import annotations

import time
from typing import Any, Optional

from memory import scope as sc
from memory.credit import (NEGATIVE_FEEDBACK, align_steps, assign, change_for, component_deltas, is_negative_feedback,
                           is_success)
from memory.entry import Entry, describe_entry
from memory.learning import HYPOTHESIS_CONFIDENCE, INITIAL_CONFIDENCE, describe
from skills.schema import SKILLS

__all__ = ["NEGATIVE_FEEDBACK", "align_steps", "describe_entry", "distill_episode", "is_negative_feedback", "is_success",
           "net_changes"]
# Changes smaller than these are noise, not knowledge (the contract's "stays as it was" tolerances).
OFFSET_TOL = 0.002  # m per axis
YAW_TOL = 0.02  # rad
HEIGHT_TOL = 0.005  # m
RATIO_TOL = 0.02  # relative, speed / force


def net_changes(skill: str, before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """The changes that turn ``before`` args into ``after`` args (defaults filled), beyond noise tolerances.

    offset / yaw / height -> ``add``; speed / force -> ``scale``. Values rounded (0.5 mm, 0.01 rad, 1 %).
    """
    if skill not in SKILLS:
        return []
    d = component_deltas(skill, before, after)
    out: list[dict[str, Any]] = []
    off = [d.get(f"offset.{a}", 0.0) for a in "xyz"]
    off = [round(v * 2000) / 2000 if abs(v) >= OFFSET_TOL else 0.0 for v in off]
    if any(off):
        out.append({"arg": "offset", "op": "add", "value": off})
    if abs(d.get("yaw", 0.0)) >= YAW_TOL:
        out.append(change_for("yaw", d["yaw"]))
    if abs(d.get("height", 0.0)) >= HEIGHT_TOL:
        out.append(change_for("height", d["height"]))
    for arg in ("speed", "force"):
        if arg in d and abs(change_for(arg, d[arg])["value"] - 1.0) >= RATIO_TOL:
            out.append(change_for(arg, d[arg]))
    return out


def distill_episode(episode: dict[str, Any], now: Optional[float] = None) -> list[Entry]:
    """The lessons one episode teaches on its own (each at the scope of the object it was taught on); [] unless
    the episode succeeded. Weak parts come back with ``status='hypothesis'``."""
    if not is_success(episode):
        return []
    t = float(now if now is not None else (episode.get("ended") or time.time()))
    source = str(episode.get("id", ""))
    out: list[Entry] = []
    for inst in assign(episode).instances:
        scope = sc.object_scope(inst.props)
        e = Entry(text="-", scope="preference" if inst.role == "target" else "skill",
                  effect={"skill": inst.skill, "changes": [change_for(inst.component, inst.value)]},
                  conditions=sc.conditions(inst.skill, inst.role, scope),
                  confidence=HYPOTHESIS_CONFIDENCE if inst.weak else INITIAL_CONFIDENCE,
                  sources=[] if inst.weak or not source else [source], created=t, updated=t, basis=sc.level(scope),
                  subject=inst.props.get("name"), status="hypothesis" if inst.weak else "active", lesson=inst.lesson,
                  evidence=[{"episode": source, "utterance": " / ".join(inst.utterances), "object": dict(inst.props),
                             "value": change_for(inst.component, inst.value)["value"], "problem": inst.problem,
                             "weak": inst.weak}])
        e.text = describe(e)
        out.append(e)
    return out
