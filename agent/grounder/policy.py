"""The embedded default policy: offline, CPU, a learned model over a frozen pretrained MiniLM.

``ground``: safety words stop at once (before any model); colour / kind words missing from the scene
get a question; otherwise ONE encoder pass over the utterance feeds the trained heads (level, history
op, per-axis offsets, yaw, speed, force, height, plan op, object pointers), numbers with units come
from :mod:`agent.grounder.numbers`, history utterances are re-grounded (cached) so "more" / "too far"
know what they refer to, and :mod:`agent.grounder.apply` writes the new plan, validated by
``skills.schema``.

``plan``: the same network in planning mode: task type (move / all-to / sort / pick-only), object and
target pointers, per-object set membership for "all red blocks"; knowledge is applied afterwards
(``memory.knowledge.apply_knowledge``, when installed).
"""
from __future__ import annotations

import copy
import math
import re
from pathlib import Path
from typing import Any, Optional, Sequence

import torch

from agent.learn.plan_args import PlanArgs
from agent.policy import Grounding, Policy, PolicyError
from skills.schema import SkillArgError, diff_plans, validate_plan

from .apply import Effect, Intent, apply_effect, apply_plan_op, pair_indices
from .labels import CLASS_HEADS
from .lead_words import says_nothing
from .model import MODES, Encoder, load_checkpoint
from .negation import goes_negated_way, negated, overdone_only, too_far
from .numbers import SAFETY_WORDS, is_safety_stop, tokens
from .reader import Reader, one_change
from .relative import VIEWPOINTS, find_relative
from .scene_words import kind_sound_alikes, seen, unknown_reference
from .spelling import respell, strip_restate
from .turns import turned_side
from hardware import runtime
from hardware.scene import COLORS

MIN_POINTER_CONFIDENCE = 0.3  # below this the policy asks which object is meant
ABSTAIN_BELOW = 0.5  # calibrated confidence of the whole reading under which the policy asks instead of acting
MODEL_STOP_ABOVE = 0.85  # a stop read from words that are not safety words needs this confidence, else it asks
UNKNOWN_WORD_BELOW = 0.9  # with a word never trained, act only when this sure (generated cases, seed 1000: 0.9 -> 0.657, 0.7 -> 0.733, 0.5 -> 0.750; 0.9 kept for safety, see README)
# colour and kind words are never respelled ("the green black" must not become "the green back")
SCENE_WORDS = frozenset(COLORS) | {"grey", "block", "blocks", "cube", "cubes", "bowl", "bowls", "tray", "trays", "black", "white", "brown", "pink"}
RESPELLED_BELOW = 0.7  # a reading of respelled words ("harter" -> "harder", agent.grounder.spelling) acts only when this sure
MAX_OFFSET_M = 0.15  # skills.schema's offset bound: an object-relative move further than this asks instead
# A bare judgment that something is wrong ("not right", "no, not quite right", "that's not correct"): it names no
# direction, whatever direction word it holds; read as a complaint (no change), never as "to the right".
_BARE_COMPLAINT = re.compile(r"^\W*(?:(?:no|nope|uh|um|er|hmm|nah)\b[\s,.!]*)*(?:(?:that|it|this)(?:'s| is)?\s+)?"
                             r"(?:not|isn'?t|is not)\s+(?:quite\s+|really\s+|at all\s+)?(?:right|correct|good|it)\W*$")
_LEADING_STOP = re.compile(r"^\W*(?:(?:" + "|".join(SAFETY_WORDS) + r"|hold on)\b[\s,.!;:-]*)+(?:(?:and|then|now|ok|okay)\b[\s,]*)*(?P<rest>.*)$")
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "embedded"



def _objects(scene: Any) -> list[dict[str, Any]]:
    if hasattr(scene, "to_contract"):
        scene = scene.to_contract()
    if not isinstance(scene, dict) or not isinstance(scene.get("objects"), list):
        raise PolicyError("a scene is {'objects': [{'name', 'kind', 'color', 'size', 'position'}, ...]}")
    return scene["objects"]


def as_said(token: str, utterance: str) -> str:
    """A token as the user said it: "didn" of "it didn't go in" is "didn't" (the tokenizer splits contractions)."""
    m = re.search(rf"\b{re.escape(token)}['’]t\b", utterance, re.I)
    return m.group(0) if m else token


class EmbeddedPolicy(Policy):
    """The learned embedded policy. ``checkpoint``: folder with ``heads.pt`` + ``config.json``
    (default ``agent/checkpoints/embedded``); ``threads``: torch CPU threads for inference; ``viewpoint``:
    where the user stands ("behind" the robot by default, "facing" it, or "camera" at ``camera_yaw`` rad);
    ``abstain_below`` / ``unknown_word_below``: calibrated confidence under which it asks instead of acting.

    One job: turning one utterance into one validated grounding (act, ask or stop), and a task into a plan. The
    model's reading of the words is its :class:`~agent.grounder.reader.Reader`'s; ``ground`` takes the steps in
    the order an utterance is read (safety words, words missing from the scene, object-relative directions, the
    reading, then the checks that make it ask: unknown words, words that say nothing, a negated direction, low
    confidence), each a hand-off to a module of ``agent.grounder``."""

    name = "embedded"

    def __init__(self, checkpoint: Optional[str] = None, threads: int = 1, encoder: Optional[Encoder] = None,
                 viewpoint: str = "behind", camera_yaw: float = math.pi, abstain_below: float = ABSTAIN_BELOW,
                 unknown_word_below: float = UNKNOWN_WORD_BELOW) -> None:
        if viewpoint not in (*VIEWPOINTS, "camera"):
            raise PolicyError(f"viewpoint {viewpoint!r}: choose behind (default), facing or camera")
        runtime.set_threads(max(1, int(threads)))
        try:
            self.net, self.meta = load_checkpoint(str(checkpoint or DEFAULT_CHECKPOINT))
        except FileNotFoundError as e:
            raise PolicyError(str(e)) from None
        self.enc = encoder or Encoder.shared()
        self.abstain_below, self.unknown_word_below = float(abstain_below), float(unknown_word_below)
        self.reader = Reader(self.net, self.meta, self.enc, self.abstain_below, viewpoint, camera_yaw)
        # the arguments that worked, learned from the logs into a retrained checkpoint (None in the shipped one)
        self.plan_args: Optional[PlanArgs] = PlanArgs.load(Path(checkpoint or DEFAULT_CHECKPOINT))

    @property
    def vocab(self) -> frozenset[str]:
        """Every word the checkpoint was trained on (a word outside it gets a question)."""
        return self.reader.vocab

    @property
    def platt(self) -> Optional[tuple[float, float]]:
        """The checkpoint's Platt calibration (a, b) of raw confidences; None reads them raw."""
        return self.reader.platt

    @platt.setter
    def platt(self, value: Optional[tuple[float, float]]) -> None:
        self.reader.platt = value

    # --- Policy --------------------------------------------------------------------------------------
    def ground(self, scene: dict[str, Any], task: str, plan: list[dict[str, Any]], step: int,
               history: Sequence[dict[str, Any]], knowledge: Sequence[dict[str, Any]], utterance: str) -> Grounding:
        objs = _objects(scene)
        try:
            before = validate_plan(plan, scene, fill_defaults=False)
        except SkillArgError as e:
            raise PolicyError(f"the current plan is invalid: {e}") from None
        if not before:
            raise PolicyError("the current plan is empty; there is nothing to correct")
        if not isinstance(step, int) or not 0 <= step < len(before):
            raise PolicyError(f"step {step!r} is not a step of the plan (0..{len(before) - 1})")
        keep = copy.deepcopy(plan)
        if is_safety_stop(utterance):
            return self._stop(scene, task, plan, step, history, knowledge, utterance, keep)
        said = utterance
        utterance, respelled = respell(strip_restate(utterance), self.vocab | SCENE_WORDS | {w for o in objs for w in o["name"].split()})
        utterance, heard = kind_sound_alikes(utterance, objs)
        respelled = {**respelled, **heard}
        question = unknown_reference(utterance, objs)
        if question:
            return Grounding("none", keep, question=question, parsed={"unknown_reference": True})
        if _BARE_COMPLAINT.match(utterance.lower()):
            return Grounding("none", keep, parsed={"complaint": True, "confidence": 1.0})
        rel = self._relative(utterance, objs, plan, step)
        if rel is not None:
            parsed = {"relative": {"relation": rel.relation, "reference": rel.reference}, "confidence": 1.0}
            if rel.question or rel.offset is None:
                return Grounding("none", keep, question=rel.question, parsed=parsed)
            effect = Effect(offset=list(rel.offset))
            cur = plan[step]["args"].get("offset") or [0.0, 0.0, 0.0]
            if any(abs(float(c) + d) > MAX_OFFSET_M + 1e-9 for c, d in zip(cur, effect.offset)):
                return Grounding("none", keep, parsed=parsed, question=f"{rel.relation} the {rel.reference} is more than "
                                 f"{MAX_OFFSET_M * 100:.0f} cm from where I aim; should I put it on or in the {rel.reference} instead?")
            parsed["effect"] = {"offset": effect.offset, "yaw": 0.0, "ratios": {}}
            return self._finish(scene, objs, before, keep, apply_effect(plan, step, effect), "skill", parsed)
        intent = self.reader.direct(self.reader.read(utterance, objs, plan, step, bool(history)), utterance, objs, plan, step, history)
        parsed = intent.to_dict()
        parsed["confidence"] = round(intent.confidence, 4)
        if utterance != said:
            parsed["heard_as"] = utterance
        if respelled:
            parsed["respelled"] = respelled
        named = {w for o in objs for w in o["name"].split()}
        unknown = [w for w in tokens(utterance) if w.isalpha() and len(w) > 2 and w not in self.vocab and w not in named]
        if unknown:
            parsed["unknown_words"] = unknown
        chatter = [w for w in tokens(utterance) if w in self.reader.chatter and w not in named]
        if chatter:  # words known only from talk that changes nothing ("the music", "my car"): as sure as for unknown words
            parsed["chatter_words"] = chatter
        fix = self._overdone_fix(intent, utterance) if not unknown and not chatter else None
        if fix is not None:  # "too high" alone, read as up (or as "less of what?"): the step back it asks for
            intent = fix
            parsed = {**parsed, **intent.to_dict(), "confidence": round(intent.confidence, 4), "overdone": True}
        turn = self._turn_fix(intent, utterance)
        if turn is not None:  # "rotate left", read as a move to the left: a turn of the same size
            intent = turn
            parsed = {**parsed, **intent.to_dict(), "turned": True}
        if intent.level == "none":
            return Grounding("none", keep, parsed=parsed)
        if intent.level == "unclear":
            return Grounding("none", keep, question=f"I did not understand {said!r}; say for example 'a bit more to the left'",
                             parsed=parsed)
        if intent.level == "stop":
            if intent.confidence >= MODEL_STOP_ABOVE and not unknown:
                return Grounding("stop", keep, parsed=parsed)
            return Grounding("none", keep, question=f"do you want me to stop? say 'stop'; I did not act on {said!r}", parsed=parsed)
        if unknown and intent.confidence < self.unknown_word_below:
            rest = self.reader.lead_dropped(utterance, unknown, intent, objs, plan, step, history)
            if rest is not None:  # an unknown verb before words that say it all ("dip down a little")
                intent = rest
                parsed = {**intent.to_dict(), "confidence": round(intent.confidence, 4), "unknown_words": unknown,
                          "read_without": unknown, **{k: parsed[k] for k in ("heard_as", "respelled") if k in parsed}}
        guess = self._describe(intent)
        if intent.level in ("skill", "plan") and says_nothing(utterance):
            return Grounding("none", keep, parsed={**parsed, "says_nothing": True},
                             question=f"{said!r} does not say what to change; say for example 'a bit more to the left'")
        if intent.level == "skill" and intent.hist == "new" and goes_negated_way(intent.signed, intent.scale, utterance):
            said_way = self.reader.without_negated(utterance, objs, plan, step, bool(history))
            if said_way is not None:  # "no, not left, right": the clause that says which way
                intent, guess = said_way, self._describe(said_way)
                parsed = {**parsed, **intent.to_dict(), "confidence": round(intent.confidence, 4), "negated_clause": True}
        if intent.level == "skill" and intent.hist == "new" and goes_negated_way(intent.signed, intent.scale, utterance):
            overdone = bool(too_far(utterance)) and not negated(utterance)
            return Grounding("none", keep, parsed={**parsed, "negated": True},
                             question=(f"you said it went too far that way, and I read {said!r} as {guess}; which way should it go?"
                                       if overdone else
                                       f"you said not to go that way, and I read {said!r} as {guess}; which way should it go?"))
        if unknown and intent.confidence < self.unknown_word_below and "read_without" not in parsed:
            return Grounding("none", keep, parsed=parsed,
                             question=f"I don't know the word{'s' if len(unknown) > 1 else ''} {', '.join(repr(as_said(w, said)) for w in unknown)}; "
                                      f"did you mean {guess}? say it again in other words")
        if chatter and intent.confidence < self.unknown_word_below:
            return Grounding("none", keep, parsed=parsed,
                             question=f"{said!r} does not sound like a correction to me (I know {', '.join(repr(w) for w in chatter)} "
                                      f"only from other talk); did you mean {guess}? say it again in other words")
        if respelled and intent.confidence < RESPELLED_BELOW:
            return Grounding("none", keep, parsed=parsed,
                             question=f"I heard {utterance!r}; did you mean {guess}? say it again in other words")
        if intent.confidence < self.abstain_below:
            return Grounding("none", keep, parsed=parsed,
                             question=f"I am not sure what {said!r} means: did you mean {guess}? say it again in other words")
        if intent.level == "plan":
            if intent.confidence < MIN_POINTER_CONFIDENCE:
                return Grounding("none", keep, question=f"which one do you mean? I see: {seen(objs)}", parsed=parsed)
            return self._finish(scene, objs, before, keep, apply_plan_op(plan, step, intent), "plan", parsed)
        effect = self.reader.resolve(intent, self.reader.referred_effects(intent, objs, plan, step, history) if intent.hist != "new" else [])
        if effect is None or effect.empty:
            what = {"undo": "undo what", "reverse": "less of what"}.get(intent.hist, "more of what" if intent.hist != "new" else "what should change")
            return Grounding("none", keep, question=f"{what}? I could not tell from {said!r}", parsed=parsed)
        parsed["effect"] = {"offset": effect.offset, "yaw": effect.yaw, "ratios": effect.ratios}
        return self._finish(scene, objs, before, keep, apply_effect(plan, step, effect), "skill", parsed)

    def _overdone_fix(self, intent: Intent, utterance: str) -> Optional[Intent]:
        """When ``utterance`` is only a complaint that a way was overdone (:func:`negation.overdone_only`: "too
        high", "you're a bit too far right"), the step back it asks for, whatever the model read (it read "too high"
        as up, "way too low" as "less of what?"): one step (small after "a bit", else medium) the other way, as the
        grammar labels such a complaint, at least as sure as the bar to act. A stop reading is never replaced. Else
        None."""
        only = overdone_only(utterance)
        if only is None or intent.level == "stop":
            return None
        head, sign, size = only
        out = one_change(intent, head, ("-" if sign == "+" else "+") + size, self.abstain_below)
        out.hmag, out.plan_op, out.obj, out.tgt = "same", "none", None, None
        return out

    @staticmethod
    def _turn_fix(intent: Intent, utterance: str) -> Optional[Intent]:
        """When ``utterance`` turns toward a side (:func:`turns.turned_side`: "rotate left", "twist it to the right a
        bit") and the reading is a new sideways move and no turn, the same reading with the move made a turn of the
        same size (left counter-clockwise); else None. A number said with it must be an angle."""
        side = turned_side(utterance)
        if side is None or intent.level != "skill" or intent.hist != "new":
            return None
        y, yaw = intent.signed.get("y", "none"), intent.signed.get("yaw", "none")
        if y == "none" or yaw != "none" or (y.endswith("n") and not intent.angles):
            return None
        out = copy.deepcopy(intent)
        out.signed["y"], out.signed["yaw"] = "none", side + y[1:]
        out.order = ["yaw" if a == "y" else a for a in out.order]
        return out

    def _finish(self, scene: dict[str, Any], objs: list[dict[str, Any]], before: list[dict[str, Any]], keep: list[dict[str, Any]],
                new: list[dict[str, Any]], level: str, parsed: dict[str, Any]) -> Grounding:
        try:
            new = validate_plan(new, scene, fill_defaults=False)
        except SkillArgError as e:
            return Grounding("none", keep, question=f"I cannot do that: {e}", parsed=parsed)
        changes = diff_plans(before, new)
        if not changes:
            return Grounding("none", keep, question=f"that changes nothing; I see: {seen(objs)}", parsed=parsed)
        return Grounding(level, new, changes=changes, parsed=parsed)

    def _stop(self, scene: dict[str, Any], task: str, plan: list[dict[str, Any]], step: int, history: Sequence[dict[str, Any]],
              knowledge: Sequence[dict[str, Any]], utterance: str, keep: list[dict[str, Any]]) -> Grounding:
        """A safety word halts. When it leads a correction ("stop, move your arm up a bit"), the correction is
        grounded too and returned in ``parsed["then"]`` ({utterance, level, plan, changes}) for after the halt;
        the grounding itself keeps the plan (contract: stop keeps the plan)."""
        parsed: dict[str, Any] = {"safety": True}
        m = _LEADING_STOP.match(" ".join(str(utterance).lower().split()))
        rest = m.group("rest").strip(" ,.!;:-") if m else ""
        if rest and not is_safety_stop(rest):
            g = self.ground(scene, task, plan, step, history, knowledge, rest)
            if g.level in ("skill", "plan") and not g.question:
                parsed["then"] = {"utterance": rest, "level": g.level, "plan": g.plan, "changes": g.changes}
                return Grounding("stop", keep, changes=[f"then: {c}" for c in g.changes], parsed=parsed)
        return Grounding("stop", keep, parsed=parsed)

    def _relative(self, utterance: str, objs: list[dict[str, Any]], plan: list[dict[str, Any]], step: int):
        """An object-relative correction ("toward the blue block", "away from the edge"), or None."""
        pk, pl = pair_indices(plan, step)
        s = plan[step]
        by_name = {o["name"]: o for o in objs}
        moving = plan[pk]["args"].get("object") if pk is not None else None
        aim_name = s["args"].get("target") if s.get("skill") == "place" else s["args"].get("object")
        if aim_name not in by_name:
            return None
        p = by_name[aim_name]["position"]
        off = s["args"].get("offset") or [0.0, 0.0, 0.0]
        aimed = [float(p[0]) + float(off[0]), float(p[1]) + float(off[1]), float(p[2]) + float(off[2])]
        size = float(by_name[moving].get("size", 0.04)) if moving in by_name else 0.04
        return find_relative(utterance, objs, aimed, moving=moving, moving_size=size)

    @staticmethod
    def _describe(intent: Intent) -> str:
        """The reading in words, for a specific question ("a small move to the left")."""
        if intent.level == "plan":
            what = intent.obj or intent.tgt or "another object"
            return {"retarget_object": f"pick the {what} instead", "retarget_target": f"put it on/in the {what} instead",
                    "append": f"also move the {intent.obj or 'other block'}"}.get(intent.plan_op, "a change of plan")
        if intent.hist != "new":
            return {"repeat": "the same change again", "reverse": "a bit less of the last change",
                    "undo": "undo the last change"}.get(intent.hist, "a change")
        words = {"x": ("forward", "back"), "y": ("left", "right"), "z": ("up", "down"), "yaw": ("counterclockwise", "clockwise"),
                 "speed": ("faster", "slower"), "force": ("a firmer grip", "a gentler grip"), "height": ("a higher approach", "a lower approach")}
        size = {"s": "a little ", "l": "a lot ", "m": "", "n": ""}
        parts = [f"{size[c[1]]}{words[h][0 if c[0] == '+' else 1]}" for h, c in {**intent.signed, **intent.scale}.items() if c != "none"]
        return " and ".join(parts) or "no change"

    def plan(self, scene: dict[str, Any], task: str, knowledge: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
        objs = _objects(scene)
        if not objs:
            raise PolicyError("the scene is empty; there is nothing to plan with")
        q = unknown_reference(task, objs)
        if q:
            raise PolicyError(q)
        out = self.reader.run(task, objs, MODES["plan"], 0)
        kind = CLASS_HEADS["task"][int(out["task"].argmax())]
        names = [o["name"] for o in objs]
        is_block = torch.tensor([o.get("kind") == "block" for o in objs])
        is_cont = torch.tensor([o.get("kind") in ("bowl", "tray") for o in objs])
        blocks = [o for o in objs if o.get("kind") == "block"]
        if not blocks:
            raise PolicyError(f"there is no block to pick up; I see: {seen(objs)}")

        def call(skill: str, **kw: Any) -> dict[str, Any]:
            return {"skill": skill, "args": kw}

        steps: list[dict[str, Any]] = []
        if kind in ("move", "pick_only"):
            o = names[int(out["p_obj"].masked_fill(~is_block, -1e4).argmax())]
            steps.append(call("pick", object=o))
            if kind == "move":
                mask = torch.tensor([n != o for n in names])
                steps.append(call("place", target=names[int(out["p_tgt"].masked_fill(~mask, -1e4).argmax())]))
        elif kind == "all_to":
            if not bool(is_cont.any()):
                raise PolicyError(f"there is no bowl or tray to put them in; I see: {seen(objs)}")
            t = names[int(out["p_tgt"].masked_fill(~is_cont, -1e4).argmax())]
            members = [n for n, o, s in zip(names, objs, out["set"]) if o.get("kind") == "block" and float(s) > 0]
            if not members:
                raise PolicyError(f"no block matches {task!r}; I see: {seen(objs)}")
            for m in members:
                steps += [call("pick", object=m), call("place", target=t)]
        else:  # sort: each block into the bowl of its colour
            bowls = {o["color"]: o["name"] for o in objs if o.get("kind") == "bowl"}
            for b in blocks:
                if b.get("color") in bowls:
                    steps += [call("pick", object=b["name"]), call("place", target=bowls[b["color"]])]
            if not steps:
                raise PolicyError(f"no block has a bowl of its colour; I see: {seen(objs)}")
        try:
            plan = validate_plan(steps, scene)
        except SkillArgError as e:
            raise PolicyError(f"could not make a valid plan for {task!r}: {e}") from None
        if self.plan_args is not None:  # the arguments learned from the logs, when the checkpoint has them
            try:
                plan = validate_plan(self.plan_args.apply(plan, objs)[0], scene)
            except SkillArgError:
                pass  # a learned value the scene does not allow: the plan without them
        if knowledge:
            try:
                from memory.knowledge import apply_knowledge
            except ImportError:
                return plan
            plan, _notes = apply_knowledge(plan, scene, knowledge)
            plan = validate_plan(plan, scene)
        return plan
