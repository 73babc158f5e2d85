"""The embedded model's reading of one utterance, before anything is applied: one encoder pass through the
trained heads gives an :class:`~agent.grounder.apply.Intent` with a calibrated confidence; unsure readings
are read again clause by clause; readings that refer back ("more", "too far", "undo that") are resolved
against the earlier corrections' effects (re-read and cached), or read as the direction their words name
when there is nothing of this step's to refer to; an unknown lead-in verb or a negated clause is read past
when the rest says it all. Frames: offsets in the base frame (m), turned from the user's viewpoint
(:func:`agent.grounder.relative.to_base`).

:class:`~agent.grounder.policy.EmbeddedPolicy` owns one :class:`Reader` and decides what to do with its
readings (act, ask, stop)."""
from __future__ import annotations

import copy
import math
import re
from typing import Any, Optional, Sequence

import torch

from .apply import Effect, Intent, pair_indices, resolve
from .labels import CLASS_HEADS, SCALE_HEADS, SIGNED_HEADS
from .lead_words import approves, only_hesitation, rest_after_lead, same_reading
from .model import MODES, Encoder, GrounderNet, object_features
from .negation import goes_negated_way, negated
from .numbers import is_safety_stop, parse_factor, parse_quantities
from .relative import to_base
from .spelling import respell, strip_restate

# the contract's direction words ("back" is -x) and the words that ask to undo (shared/spec/corrections.md)
_DIRECTION = re.compile(r"\b(left|right|forwards?|backwards?|back|closer|nearer|further|farther|away|up|down|higher|lower)\b")
_UNDO_WORDS = re.compile(r"\b(undo|revert|cancel|take (it|that) back|put (it|that) back|as (it|you) (was|were)|before|too (far|much))\b")
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


def one_change(intent: Intent, head: str, cls: str, floor: float) -> Intent:
    """``intent`` made a new skill change of ``head`` alone, class ``cls`` ("-m"), read from words by a rule rather
    than the model, so at least ``floor`` sure (the bar to act)."""
    out = copy.deepcopy(intent)
    out.level, out.hist = "skill", "new"
    out.signed = {k: "none" for k in SIGNED_HEADS}
    out.scale = {k: "none" for k in SCALE_HEADS}
    (out.signed if head in SIGNED_HEADS else out.scale)[head] = cls
    out.confidence = max(out.confidence, floor)
    return out


def changes_of(r: Intent) -> dict[str, str]:
    """The heads a new skill reading changes and their classes ("y": "+m"); empty for any other reading."""
    if r.level != "skill" or r.hist != "new":
        return {}
    return {h: c for table in (r.signed, r.scale) for h, c in table.items() if c != "none"}


def contradicted(acts: Sequence[Intent], clauses: Sequence[Intent]) -> bool:
    """Whether a clause reads as a new change of a head that a sure clause (``acts``) changes the other way, however
    unsure that clause's own reading is ("off to the rigt, then left of where it is": "left" is sure, the misspelt
    "rigt" only 0.48 sure, and the utterance still says both ways). A clause's negated words are not its way
    ("not left") and are left to :func:`~agent.grounder.negation.goes_negated_way`."""
    sure = [changes_of(r) for r in acts]
    for r in clauses:
        mine = changes_of(r)
        if any(h in s and s[h][0] != c[0] for s in sure for h, c in mine.items()):
            return True
    return False


class Reader:
    """Readings of utterances by the trained heads ``net`` over the frozen encoder ``enc``. ``meta``: the
    checkpoint's config (softmax temperature, Platt calibration, vocabulary); ``abstain_below``: the calibrated
    confidence a re-reading needs to stand; ``viewpoint`` / ``camera_yaw`` (rad): the frame the user's words
    are in."""

    def __init__(self, net: GrounderNet, meta: dict[str, Any], enc: Encoder, abstain_below: float,
                 viewpoint: str = "behind", camera_yaw: float = math.pi) -> None:
        self.net, self.meta, self.enc = net, meta, enc
        self.abstain_below, self.viewpoint, self.camera_yaw = float(abstain_below), viewpoint, float(camera_yaw)
        self.temperature = float(meta.get("temperature", 1.0))
        cal = meta.get("calibration") or {}
        self.platt = (float(cal.get("a", 1.0)), float(cal.get("b", 0.0))) if cal else None
        self.vocab = frozenset(meta.get("vocab", ()))
        self.chatter = frozenset(meta.get("chatter", ()))  # words known only from talk that changes nothing (grounder.known_words)
        self._hist_cache: dict[tuple[str, int, int], Intent] = {}

    @torch.inference_mode()
    def run(self, text: str, objs: list[dict[str, Any]], mode: int, hist: int,
             plan: Optional[list[dict[str, Any]]] = None, cur_obj: Optional[str] = None, cur_tgt: Optional[str] = None) -> dict[str, torch.Tensor]:
        tok, mask = self.enc.tokens([text], self.net.cfg.encoder_layers)
        names = [o["name"] for o in objs]
        vec = self.enc.names(names)[None]
        feat = object_features(objs, plan, cur_obj, cur_tgt)[None]
        om = torch.ones(1, len(names), dtype=torch.bool)
        out = self.net(tok, mask, torch.tensor([mode]), torch.tensor([hist]), vec, feat, om)
        return {k: v[0] for k, v in out.items()}

    def intent(self, utterance: str, objs: list[dict[str, Any]], plan: list[dict[str, Any]], step: int, has_history: bool,
                cache: bool = False) -> Intent:
        skill = plan[step]["skill"] if 0 <= step < len(plan) else "other"
        mode = MODES.get(skill, MODES["other"])
        key = (utterance, int(has_history), mode)
        if cache and key in self._hist_cache:
            return self._hist_cache[key]
        pk, pl = pair_indices(plan, step)
        cur_o = plan[pk]["args"].get("object") if pk is not None else None
        cur_t = plan[pl]["args"].get("target") if pl is not None else None
        out = self.run(utterance, objs, mode, int(has_history), plan, cur_o, cur_t)

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

    def read(self, utterance: str, objs: list[dict[str, Any]], plan: list[dict[str, Any]], step: int, has_history: bool) -> Intent:
        """The model's reading of ``utterance``; when it is unsure or reads no correction and the utterance has
        several clauses ("going too fast, slow down", "that's wrong. move right"), each clause is read on its own:
        clauses that are corrections and agree are merged (a later clause wins on a head both name), an
        interjection or an observation that reads as no correction is dropped, and a contradiction keeps the
        whole reading (which then asks)."""
        whole = self.intent(utterance, objs, plan, step, has_history)
        if whole.level != "unclear" and whole.confidence >= self.abstain_below:
            return whole  # a sure reading (a correction, praise, a stop) stands
        parts = [c.strip() for c in _CLAUSES.split(utterance) if c and c.strip(" ,.;!?-")]
        if len(parts) < 2:
            return whole
        reads = [self.intent(c, objs, plan, step, has_history) for c in parts]
        acts = [r for c, r in zip(parts, reads) if r.level in ("skill", "plan") and r.confidence >= self.abstain_below
                and not only_hesitation(c) and not approves(c)]  # "mm, what time is it": "mm" alone was read as 3 cm down
        if not acts:
            return whole
        if contradicted(acts, [r for c, r in zip(parts, reads) if not only_hesitation(c) and not negated(c)]):
            return whole  # "go up, and also down more" with the second clause unsure: still a contradiction, ask
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

    def direct(self, intent: Intent, utterance: str, objs: list[dict[str, Any]], plan: list[dict[str, Any]], step: int,
                history: Sequence[dict[str, Any]]) -> Intent:
        """A reading that refers to earlier corrections, read again as a new correction when the words name one of
        the contract's directions and do not ask to undo ("move back" is -x, not "undo that"), or when there is no
        earlier correction to refer to ("further" said first is +x). The new reading stands only when it is sure."""
        if intent.level != "skill" or intent.hist == "new":
            return intent
        t = utterance.lower()
        named = intent.hist == "undo" and _DIRECTION.search(t) is not None and _UNDO_WORDS.search(t) is None
        earlier = self.referred_effects(intent, objs, plan, step, history)
        if history and not named and any(e is not None and not e.empty for e in earlier):
            return intent
        fresh = self.intent(utterance, objs, plan, step, False)
        if fresh.level == "skill" and fresh.hist == "new" and fresh.confidence >= self.abstain_below:
            return fresh
        if not history or named or intent.hist in ("reverse", "undo"):
            return self._by_words(intent, t)  # nothing said before, an undo naming a direction, or no change here to take back
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
        return one_change(intent, ax, sg + mag, self.abstain_below)

    def without_negated(self, utterance: str, objs: list[dict[str, Any]], plan: list[dict[str, Any]], step: int,
                         has_history: bool) -> Optional[Intent]:
        """The one sure new correction among ``utterance``'s clauses that says no way its own words negate ("no,
        not left, right" -> right); None when there is not exactly one."""
        parts = [c.strip() for c in _CLAUSES.split(utterance) if c and c.strip(" ,.;!?-")]
        reads = [(c, self.intent(c, objs, plan, step, has_history)) for c in parts] if len(parts) > 1 else []
        acts = [r for c, r in reads if r.level == "skill" and r.hist == "new" and r.confidence >= self.abstain_below
                and not negated(c) and not goes_negated_way(r.signed, r.scale, utterance)]
        return acts[0] if len(acts) == 1 else None

    def lead_dropped(self, utterance: str, unknown: list[str], intent: Intent, objs: list[dict[str, Any]],
                      plan: list[dict[str, Any]], step: int, history: Sequence[dict[str, Any]]) -> Optional[Intent]:
        """The reading of the words after an unknown lead-in (:func:`lead_words.rest_after_lead`), when it is a
        correction, sure (``abstain_below``) and the same as the whole utterance's reading; else None."""
        rest = rest_after_lead(utterance, unknown)
        if rest is None or intent.level not in ("skill", "plan"):
            return None
        r = self.direct(self.read(rest, objs, plan, step, bool(history)), rest, objs, plan, step, history)
        return r if same_reading(r, intent) and r.confidence >= self.abstain_below else None

    def referred_effects(self, intent: Intent, objs: list[dict[str, Any]], plan: list[dict[str, Any]], step: int,
                          history: Sequence[dict[str, Any]]) -> list[Optional[Effect]]:
        """The earlier corrections' effects a history reading can refer to. "Too far" / "undo that" take back a change
        of this step's own pick-and-place pair: a change made to another object's steps is left out (its place is
        None), so "back it up" said at the third block after "shift it right" at the first is a new correction, not
        a reversal of a change this step never got. "Again" / "more" may carry any earlier change on."""
        effects = self.history_effects(objs, plan, history)
        if intent.hist not in ("reverse", "undo"):
            return effects
        pair = {i for i in pair_indices(plan, step) if i is not None} | {step}
        return [e if int(h.get("step", -1)) in pair else None for e, h in zip(effects, history)]

    def history_effects(self, objs: list[dict[str, Any]], plan: list[dict[str, Any]], history: Sequence[dict[str, Any]]) -> list[Optional[Effect]]:
        effects: list[Optional[Effect]] = []
        for i, h in enumerate(history):
            u = str(h.get("utterance", ""))
            st = int(h.get("step", 0))
            if not u or is_safety_stop(u):
                effects.append(None)
                continue
            u = respell(strip_restate(u), self.vocab)[0]
            it = self.intent(u, objs, plan, min(max(st, 0), len(plan) - 1), i > 0, cache=True)
            effects.append(self.resolve(copy.deepcopy(it), effects) if it.level == "skill" else None)
        return effects

    def resolve(self, intent: Intent, previous: list[Optional[Effect]]) -> Optional[Effect]:
        """:func:`apply.resolve`, with a new correction's offset turned from the user's viewpoint into the base frame."""
        e = resolve(intent, previous)
        if e is not None and intent.hist == "new" and self.viewpoint != "behind":
            e.offset = to_base(e.offset, self.viewpoint, self.camera_yaw)
        return e
