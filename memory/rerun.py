"""Credit by re-running: where a simulator is at hand, which part of a correction fixed the step is tested, not read.

:func:`memory.credit.assign` judges each changed component from the user's words and the failure before it. When
the world is a simulator, the episode's start can be replayed: the step is run again with the final plan
(*with*) and with one credited component put back to the value it had before the episode's corrections and
knowledge (*without*). Then, for a component credited after a **failure** (a physical problem the simulator can
reproduce):

- *with* fails too: the replay does not reproduce the episode; the words-based verdict stands;
- *without* also succeeds: that part did not fix anything; it is dropped (``dropped`` says so);
- *without* fails: that part was needed; a weak part (a hypothesis) becomes strong.

Components credited on the user's objection alone (a placement preference, "too fast") are left to the words: the
simulator judges physics, not wishes.

Memory never imports a simulator: the caller passes a :data:`StepTrial`, a callable that replays a plan from the
episode's start in a fresh copy of the world (``agent.session.trial`` builds one for a simulated world).
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Optional, Sequence

from memory.credit import Credit, Instance, ident
from skills.schema import SKILLS

StepTrial = Callable[[Sequence[dict[str, Any]], int], Optional[bool]]
"""``trial(plan, last)``: run ``plan[0..last]`` from the episode's start state in a fresh copy of the world; True when
every one of those steps succeeded, False when one failed, None when the world cannot tell (no simulator)."""


def last_step(plan: Sequence[dict[str, Any]], j: int) -> int:
    """The last step a re-run of step ``j`` must include to judge it: a pick is judged with the place that carries its
    object (a grip that slips shows on the way); any other step on its own."""
    if plan[j].get("skill") == "pick":
        for k in range(j + 1, len(plan)):
            s = plan[k].get("skill")
            if s == "place":
                return k
            if s == "pick":
                break
    return j


def without(plan: Sequence[dict[str, Any]], j: int, component: str, base_args: dict[str, Any]) -> list[dict[str, Any]]:
    """``plan`` with ``component`` of step ``j`` put back to its value in ``base_args`` (the step before corrections
    and knowledge; the skill's default where absent)."""
    out = copy.deepcopy(list(plan))
    args = out[j].setdefault("args", {})
    spec = SKILLS.get(out[j].get("skill", ""))
    defaults = spec.defaults() if spec is not None else {}

    def base(name: str) -> Any:
        v = base_args.get(name)
        return copy.deepcopy(v if v is not None else defaults.get(name))

    if component.startswith("offset."):
        ax = "xyz".index(component[-1])
        cur = list(args.get("offset") or defaults.get("offset") or [0.0, 0.0, 0.0])
        was = list(base("offset") or [0.0, 0.0, 0.0])
        cur[ax] = was[ax]
        args["offset"] = cur
    else:
        args[component] = base(component)
    return out


def recheck(credit: Credit, episode: dict[str, Any], trial: StepTrial) -> Credit:
    """``credit`` with every failure-credited instance tested by re-running (module docstring); changes ``credit``
    in place and returns it."""
    final = episode.get("final_plan") or []
    base = episode.get("base_plan") or []
    base_by = {ident(base, i): c for i, c in enumerate(base)}
    index = {f.ident: f.index for f in credit.steps}
    with_ok: dict[Any, Optional[bool]] = {}
    keep: list[Instance] = []
    for inst in credit.instances:
        j = index.get(inst.step)
        if not inst.problem.startswith("failure") or j is None or j >= len(final):
            keep.append(inst)
            continue
        last = last_step(final, j)
        if inst.step not in with_ok:
            with_ok[inst.step] = trial(final, last)
        if not with_ok[inst.step]:
            keep.append(inst)  # the replay does not reproduce the episode: the words decide
            continue
        base_args = (base_by.get(inst.step) or {}).get("args") or {}
        ok = trial(without(final, j, inst.component, base_args), last)
        if ok is None:
            keep.append(inst)
        elif ok:
            credit.dropped.append(f"{inst.skill} {inst.props.get('name') or ''} {inst.component} from "
                                  f"{' / '.join(inst.utterances)!r}: re-run in the simulator, the step succeeds without it")
        else:
            inst.weak = False  # needed: the step fails without it
            inst.problem += " (re-run: fails without it)"
            keep.append(inst)
    credit.instances = keep
    return credit
