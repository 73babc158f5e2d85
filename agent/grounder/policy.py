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

from agent.policy import Grounding, Policy, PolicyError
from skills.schema import SkillArgError, diff_plans, validate_plan

from .apply import Effect, Intent, apply_effect, apply_plan_op, pair_indices, resolve
from .labels import ACTIVE, CLASS_HEADS, SCALE_HEADS, SIGNED_HEADS
from .model import MODES, Encoder, load_checkpoint, object_features
from .numbers import SAFETY_WORDS, is_safety_stop, parse_factor, parse_quantities, tokens
from .relative import VIEWPOINTS, find_relative, to_base
from .scene_words import kind_sound_alikes, seen, unknown_reference
from .spelling import respell, strip_restate
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
# the contract's direction words ("back" is -x) and the words that ask to undo (shared/spec/corrections.md)
_DIRECTION = re.compile(r"\b(left|right|forwards?|backwards?|back|closer|nearer|further|farther|away|up|down|higher|lower)\b")
_UNDO_WORDS = re.compile(r"\b(undo|revert|cancel|take (it|that) back|put (it|that) back|as (it|you) (was|were)|before|too (far|much))\b")
# A bare judgment that something is wrong ("not right", "no, not quite right", "that's not correct"): it names no
# direction, whatever direction word it holds; read as a complaint (no change), never as "to the right".
_BARE_COMPLAINT = re.compile(r"^\W*(?:(?:no|nope|uh|um|er|hmm|nah)\b[\s,.!]*)*(?:(?:that|it|this)(?:'s| is)?\s+)?"
                             r"(?:not|isn'?t|is not)\s+(?:quite\s+|really\s+|at all\s+)?(?:right|correct|good|it)\W*$")
# The contract's fixed direction words (shared/spec/corrections.md), for a reading that refers back to an earlier
# correction when there is none to refer to ("come back a touch" said first): the words then say the direction.
_WORD_AXES = ((re.compile(r"\b(back|backwards?|closer|nearer|toward(s)? (me|us))\b"), "x", "-"),
              (re.compile(r"\b(forwards?|further|farther|away)\b"), "x", "+"),
              (re.compile(r"\bleft(wards?)?\b"), "y", "+"), (re.compile(r"\bright(wards?)?\b"), "y", "-"),
              (re.compile(r"\b(higher|raise|lift)\b"), "z", "+"), (re.compile(r"\b(lower|down)\b"), "z", "-"))
_REFERS_BACK = re.compile(r"\b(less|more|again|too|overshot|not so|same|other way|opposite|undo|revert|cancel|as (it|you) w)")
_SMALL_WORDS = re.compile(r"\b(a bit|a little|slightly|a touch|a tad|a smidge|a hair|just a|a tiny|a lil)\b")
_LARGE_WORDS = re.compile(r"\b(a lot|much|way|far|a long way|lots)\b")
_CLAUSES = re.compile(r"[,.;!?]+\s*|\s+-\s+|\s+(?:so|but|then)\s+")
_LEADING_STOP = re.compile(r"^\W*(?:(?:" + "|".join(SAFETY_WORDS) + r"|hold on)\b[\s,.!;:-]*)+(?:(?:and|then|now|ok|okay)\b[\s,]*)*(?P<rest>.*)$")
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "embedded"


def _learned_arguments(folder: Path) -> Any:
    """The checkpoint's plan arguments learned from the logs (``agent.learn.plan_args``); None when it has none."""
    if not (folder / "plan_args.json").is_file():
        return None
    from agent.learn.plan_args import PlanArgs

    return PlanArgs.load(folder)


def _objects(scene: Any) -> list[dict[str, Any]]:
    if hasattr(scene, "to_contract"):
        scene = scene.to_contract()
    if not isinstance(scene, dict) or not isinstance(scene.get("objects"), list):
        raise PolicyError("a scene is {'objects': [{'name', 'kind', 'color', 'size', 'position'}, ...]}")
    return scene["objects"]


class EmbeddedPolicy(Policy):
    """The learned embedded policy. ``checkpoint``: folder with ``heads.pt`` + ``config.json``
    (default ``agent/checkpoints/embedded``); ``threads``: torch CPU threads for inference; ``viewpoint``:
    where the user stands ("behind" the robot by default, "facing" it, or "camera" at ``camera_yaw`` rad);
    ``abstain_below`` / ``unknown_word_below``: calibrated confidence under which it asks instead of acting.

    One job in about 350 lines: turning one utterance into one validated grounding. Its methods are the
    order in which an utterance is read (safety words, then literal numbers and factors, object-relative
    directions, the joint model, clause by clause when unsure), each a hand-off to a module of
    ``agent.grounder``; the model, the vocabulary and the calibration live in those modules."""

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
        self.viewpoint, self.camera_yaw, self.abstain_below = viewpoint, float(camera_yaw), float(abstain_below)
        self.unknown_word_below = float(unknown_word_below)
        self.temperature = float(self.meta.get("temperature", 1.0))
        cal = self.meta.get("calibration") or {}
        self.platt = (float(cal.get("a", 1.0)), float(cal.get("b", 0.0))) if cal else None
        self.vocab = frozenset(self.meta.get("vocab", ()))
        self.plan_args = _learned_arguments(Path(checkpoint or DEFAULT_CHECKPOINT))
        self._hist_cache: dict[tuple[str, int, int], Intent] = {}

    # --- the model -------------------------------------------------------------------------------
    @torch.inference_mode()
    def _run(self, text: str, objs: list[dict[str, Any]], mode: int, hist: int,
             plan: Optional[list[dict[str, Any]]] = None, cur_obj: Optional[str] = None, cur_tgt: Optional[str] = None) -> dict[str, torch.Tensor]:
        tok, mask = self.enc.tokens([text], self.net.cfg.encoder_layers)
        names = [o["name"] for o in objs]
        vec = self.enc.names(names)[None]
        feat = object_features(objs, plan, cur_obj, cur_tgt)[None]
        om = torch.ones(1, len(names), dtype=torch.bool)
        out = self.net(tok, mask, torch.tensor([mode]), torch.tensor([hist]), vec, feat, om)
        return {k: v[0] for k, v in out.items()}

    def _intent(self, utterance: str, objs: list[dict[str, Any]], plan: list[dict[str, Any]], step: int, has_history: bool,
                cache: bool = False) -> Intent:
        skill = plan[step]["skill"] if 0 <= step < len(plan) else "other"
        mode = MODES.get(skill, MODES["other"])
        key = (utterance, int(has_history), mode)
        if cache and key in self._hist_cache:
            return self._hist_cache[key]
        pk, pl = pair_indices(plan, step)
        cur_o = plan[pk]["args"].get("object") if pk is not None else None
        cur_t = plan[pl]["args"].get("target") if pl is not None else None
        out = self._run(utterance, objs, mode, int(has_history), plan, cur_o, cur_t)

        T = self.temperature
        prob = {k: (out[k] / T).softmax(-1) for k in CLASS_HEADS if k in out}

        def cls(k: str) -> str:
            return CLASS_HEADS[k][int(prob[k].argmax())]

        def best_not_none(k: str) -> tuple[str, float]:
            p = prob[k][1:] / prob[k][1:].sum().clamp(min=1e-9)
            i = int(p.argmax())
            return CLASS_HEADS[k][1 + i], float(p[i])

        q = parse_quantities(utterance)
        level, hist = cls("level"), cls("hist")
        conf = float(prob["level"].max())
        intent = Intent(level=level, hist=hist, hmag=cls("hmag"), signed={k: "none" for k in SIGNED_HEADS},
                        scale={k: "none" for k in SCALE_HEADS}, plan_op=cls("plan_op"), lengths=[x.value for x in q if x.kind == "length"],
                        angles=[x.value for x in q if x.kind == "angle"], factor=parse_factor(utterance))
        if level == "skill":
            conf *= float(prob["hist"].max())
            if hist == "new":
                # the joint output: which arguments change, as one class; then each one's direction and size
                active, p_active = best_not_none("active")
                conf *= p_active
                for h in active.split("+"):
                    c, p = best_not_none(h)
                    conf *= p
                    (intent.signed if h in SIGNED_HEADS else intent.scale)[h] = c
            elif hist == "repeat":
                conf *= float(prob["hmag"].max())
        intent.confidence = conf
        numbered = [a for a in ("x", "y", "z") if intent.signed[a].endswith("n")]
        if len(numbered) >= 2 and len(intent.lengths) >= 2:
            # which number goes with which axis: each axis head's attention centre, in spoken order
            att = out["_att"]
            pos = torch.arange(att.shape[-1], dtype=att.dtype)
            centre = {a: float((att[self.net.class_names.index(a)] * pos).sum()) for a in numbered}
            intent.order = sorted(numbered, key=centre.get)
        if intent.level == "plan":
            if intent.plan_op == "none":
                intent.plan_op = CLASS_HEADS["plan_op"][1 + int(out["plan_op"][1:].argmax())]
            names = [o["name"] for o in objs]
            blocks = torch.tensor([o.get("kind") == "block" for o in objs])
            po = out["g_obj"].masked_fill(~blocks, -1e4).softmax(-1)
            pt = out["g_tgt"].softmax(-1)
            if intent.plan_op in ("retarget_object", "append"):
                intent.obj = names[int(po.argmax())]
                intent.confidence *= float(po.max())
            if intent.plan_op in ("retarget_target", "append"):
                if intent.obj is not None:
                    pt = pt.masked_fill(torch.tensor([n == intent.obj for n in names]), 0.0)
                intent.tgt = names[int(pt.argmax())]
                intent.confidence *= float(pt.max())
        intent.confidence = self.calibrated(intent.confidence)
        if cache:
            if len(self._hist_cache) > 4096:
                self._hist_cache.clear()
            self._hist_cache[key] = intent
        return intent

    def calibrated(self, raw: float) -> float:
        """The probability that a reading is right, from the product of its heads' probabilities
        (Platt scaling on log(raw), fitted on generated held-out cases: ``agent.grounder.calibrate``)."""
        if self.platt is None:
            return raw
        a, b = self.platt
        z = a * math.log(max(raw, 1e-6)) + b
        return 1.0 / (1.0 + math.exp(-z))

    def _read(self, utterance: str, objs: list[dict[str, Any]], plan: list[dict[str, Any]], step: int, has_history: bool) -> Intent:
        """The model's reading of ``utterance``; when it is unsure or reads no correction and the utterance has
        several clauses ("going too fast, slow down", "that's wrong. move right"), each clause is read on its own:
        clauses that are corrections and agree are merged (a later clause wins on a head both name), an
        interjection or an observation that reads as no correction is dropped, and a contradiction keeps the
        whole reading (which then asks)."""
        whole = self._intent(utterance, objs, plan, step, has_history)
        if whole.level != "unclear" and whole.confidence >= self.abstain_below:
            return whole  # a sure reading (a correction, praise, a stop) stands
        parts = [c.strip() for c in _CLAUSES.split(utterance) if c and c.strip(" ,.;!?-")]
        if len(parts) < 2:
            return whole
        reads = [self._intent(c, objs, plan, step, has_history) for c in parts]
        acts = [r for r in reads if r.level in ("skill", "plan") and r.confidence >= self.abstain_below]
        if not acts:
            return whole
        if len(acts) == 1 or all(r.level == "plan" for r in acts):
            return acts[-1]
        if any(r.level != "skill" or r.hist != "new" for r in acts):
            return acts[-1] if all(r.level == acts[-1].level for r in acts) else whole
        merged = copy.deepcopy(acts[0])
        for r in acts[1:]:
            for table, other in ((merged.signed, r.signed), (merged.scale, r.scale)):
                for h, c in other.items():
                    if c == "none":
                        continue
                    if table.get(h, "none") != "none" and table[h][0] != c[0]:
                        return whole  # "left, no, right": say it again
                    table[h] = c
            merged.lengths += r.lengths
            merged.angles += r.angles
            merged.factor = merged.factor or r.factor
            merged.confidence = min(merged.confidence, r.confidence)
        return merged

    def _direct(self, intent: Intent, utterance: str, objs: list[dict[str, Any]], plan: list[dict[str, Any]], step: int,
                history: Sequence[dict[str, Any]]) -> Intent:
        """A reading that refers to earlier corrections, read again as a new correction when the words name one of
        the contract's directions and do not ask to undo ("move back" is -x, not "undo that"), or when there is no
        earlier correction to refer to ("further" said first is +x). The new reading stands only when it is sure."""
        if intent.level != "skill" or intent.hist == "new":
            return intent
        t = utterance.lower()
        named = intent.hist == "undo" and _DIRECTION.search(t) is not None and _UNDO_WORDS.search(t) is None
        if history and not named and any(e is not None and not e.empty for e in self._history_effects(objs, plan, history)):
            return intent
        fresh = self._intent(utterance, objs, plan, step, False)
        if fresh.level == "skill" and fresh.hist == "new" and fresh.confidence >= self.abstain_below:
            return fresh
        if not history or named:
            return self._by_words(intent, t)
        return intent

    def _by_words(self, intent: Intent, t: str) -> Intent:
        """``intent`` (a reading that refers back, with nothing to refer back to) read as a new offset from the
        contract's direction words, when they name exactly one direction and nothing in ``t`` refers back ("less",
        "again", "too far"); else ``intent`` unchanged."""
        dirs = {(ax, sg) for rx, ax, sg in _WORD_AXES if rx.search(t)}
        if len(dirs) != 1 or _REFERS_BACK.search(t) or _UNDO_WORDS.search(t):
            return intent
        (ax, sg), = dirs
        mag = "s" if _SMALL_WORDS.search(t) else "l" if _LARGE_WORDS.search(t) else "m"
        out = copy.deepcopy(intent)
        out.hist = "new"
        out.signed = {k: "none" for k in out.signed}
        out.scale = {k: "none" for k in out.scale}
        out.signed[ax] = sg + mag
        out.confidence = max(out.confidence, self.abstain_below)
        return out

    def _history_effects(self, objs: list[dict[str, Any]], plan: list[dict[str, Any]], history: Sequence[dict[str, Any]]) -> list[Optional[Effect]]:
        effects: list[Optional[Effect]] = []
        for i, h in enumerate(history):
            u = str(h.get("utterance", ""))
            st = int(h.get("step", 0))
            if not u or is_safety_stop(u):
                effects.append(None)
                continue
            u = respell(strip_restate(u), self.vocab)[0]
            it = self._intent(u, objs, plan, min(max(st, 0), len(plan) - 1), i > 0, cache=True)
            effects.append(self._resolve(copy.deepcopy(it), effects) if it.level == "skill" else None)
        return effects

    def _resolve(self, intent: Intent, previous: list[Optional[Effect]]) -> Optional[Effect]:
        """:func:`apply.resolve`, with a new correction's offset turned from the user's viewpoint into the base frame."""
        e = resolve(intent, previous)
        if e is not None and intent.hist == "new" and self.viewpoint != "behind":
            e.offset = to_base(e.offset, self.viewpoint, self.camera_yaw)
        return e

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
        intent = self._direct(self._read(utterance, objs, plan, step, bool(history)), utterance, objs, plan, step, history)
        parsed = intent.to_dict()
        parsed["confidence"] = round(intent.confidence, 4)
        if utterance != said:
            parsed["heard_as"] = utterance
        if respelled:
            parsed["respelled"] = respelled
        unknown = [w for w in tokens(utterance) if w.isalpha() and len(w) > 2 and w not in self.vocab
                   and not any(w in o["name"].split() for o in objs)]
        if unknown:
            parsed["unknown_words"] = unknown
        if intent.level == "none":
            return Grounding("none", keep, parsed=parsed)
        if intent.level == "unclear":
            return Grounding("none", keep, question=f"I did not understand {said!r}; say for example 'a bit more to the left'",
                             parsed=parsed)
        if intent.level == "stop":
            if intent.confidence >= MODEL_STOP_ABOVE and not unknown:
                return Grounding("stop", keep, parsed=parsed)
            return Grounding("none", keep, question=f"do you want me to stop? say 'stop'; I did not act on {said!r}", parsed=parsed)
        guess = self._describe(intent)
        if unknown and intent.confidence < self.unknown_word_below:
            return Grounding("none", keep, parsed=parsed,
                             question=f"I don't know the word{'s' if len(unknown) > 1 else ''} {', '.join(repr(w) for w in unknown)}; "
                                      f"did you mean {guess}? say it again in other words")
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
        effect = self._resolve(intent, self._history_effects(objs, plan, history) if intent.hist != "new" else [])
        if effect is None or effect.empty:
            what = {"undo": "undo what", "reverse": "less of what"}.get(intent.hist, "more of what" if intent.hist != "new" else "what should change")
            return Grounding("none", keep, question=f"{what}? I could not tell from {said!r}", parsed=parsed)
        parsed["effect"] = {"offset": effect.offset, "yaw": effect.yaw, "ratios": effect.ratios}
        return self._finish(scene, objs, before, keep, apply_effect(plan, step, effect), "skill", parsed)

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
        out = self._run(task, objs, MODES["plan"], 0)
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
