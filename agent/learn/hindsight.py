"""Hindsight labels: what a logged correction *should* have been grounded to, judged from what came after.

Input: episode records (:meth:`memory.episodes.EpisodeLog.load`). Output: training examples in the corpus
format of :mod:`agent.grounder.corpus` (``kind`` "ground" or "plan", ``scene``, ``task``, ``plan``, ``step``,
``history``, ``utterance``/``labels``/``obj``/``tgt`` or ``labels.task``/``obj``/``tgt``/``set``) plus a
``source`` field saying which rule produced the label. The rules, per utterance the policy grounded
(session kind "correction"; stop words, undo, praise and "done" are handled by the session, not the policy):

- **kept**: its change survived to the end of the episode (same sign, at least half the size; the same
  object / target), a step it changed ran after it was said, and the episode succeeded -> a positive example of (context, utterance) -> its own
  grounded intent (``parsed``).
- **undone**: the next utterance about the same step was "undo" -> labelled with the change of the next
  grounded correction of that step (the restatement); dropped when there is none.
- **contradicted**: the next utterance about the same step says "no, the other way" / "opposite" ->
  its own skill change with every direction flipped.
- **restated**: the next utterance about the same step says the same thing again (they share a content word:
  not a stop word, not a word in more than 20 % of the user's utterances), or it changed nothing because the
  policy asked back and the user answered with the next utterance -> the label of that next utterance (so a chain of restatements takes
  the label of the one that finally worked); not an answer the policy read as more / less of the last change.
- **kept** needs the episode to succeed, or the correction to be the last word about its step; and a step it
  changed must have run and worked after it (not merely worked already before it).
- Corrections said before the first step (step 0, no step run yet) are treated like any other.
- A revealed label (undone, contradicted, restated) of an utterance that says its own size in a unit ("4 cm to
  port") takes the "said a number" class for the one offset or yaw it moves (:func:`said_size`).
- A successful episode also gives a **task -> plan** example: the task text, the scene, and the pick/place
  pairs of the final plan (whose arguments are kept in ``final_plan`` for the chat export); the arguments that
  worked, by the looks of each step's object, are learnt by :mod:`agent.learn.plan_args`.

Offsets are metres in the robot base frame (x forward, y left, z up), yaw radians; magnitude classes
follow :mod:`agent.grounder.labels` (small <= 2 cm / 17 deg, medium <= 5.5 cm / 42 deg, large beyond).
The hidden scene quirks in the log are never read: only the contract view of each object.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from agent.grounder.labels import SCALE_RATIO, active_of
from skills.schema import SKILLS

CONTRADICTION = re.compile(r"\b(other way|opposite|wrong way|wrong direction|other direction|not that way|the reverse)\b", re.I)
SMALL_M, MEDIUM_M = 0.02, 0.055
SMALL_RAD, MEDIUM_RAD = math.radians(17), math.radians(42)
SURE = 0.9  # calibrated confidence of a reading in known words above which a "no, the other way" is the user's slip
SIGNED_KEYS = ("x", "y", "z", "yaw")
SCALE_KEYS = ("speed", "force", "height")
CONTRACT_KEYS = ("name", "kind", "color", "size", "position")


@dataclass
class HindsightStats:
    """How many examples each rule produced (and how many utterances were dropped)."""

    kept: int = 0
    undone: int = 0
    contradicted: int = 0
    restated: int = 0
    plan: int = 0
    dropped: int = 0

    def add(self, source: str) -> None:
        setattr(self, source, getattr(self, source) + 1)


def contract_scene(scene: Optional[dict[str, Any]]) -> dict[str, Any]:
    """The policy's view of a logged scene: objects with name, kind, colour, size, position only."""
    objs = (scene or {}).get("objects") or []
    return {"objects": [{k: o[k] for k in CONTRACT_KEYS if k in o} for o in objs]}


def base_labels(**kw: str) -> dict[str, str]:
    """Labels of every grounding head, "nothing" by default (as :func:`agent.grounder.corpus._labels`)."""
    lab = {"level": "skill", "hist": "new", "hmag": "same", "x": "none", "y": "none", "z": "none", "yaw": "none",
           "speed": "none", "force": "none", "height": "none", "plan_op": "none"}
    lab.update(kw)
    return lab


def labels_from_parsed(parsed: dict[str, Any]) -> tuple[dict[str, str], Optional[str], Optional[str]]:
    """(labels, obj, tgt) of the intent the policy logged for a correction (``parsed`` of the record)."""
    lab = base_labels(level=parsed.get("level", "skill"), hist=parsed.get("hist", "new"), hmag=parsed.get("hmag", "same"),
                      plan_op=parsed.get("plan_op", "none"))
    for k, v in (parsed.get("signed") or {}).items():
        lab[k] = v
    for k, v in (parsed.get("scale") or {}).items():
        lab[k] = v
    return lab, parsed.get("obj"), parsed.get("tgt")


def _arg(call: dict[str, Any], name: str) -> Any:
    v = (call.get("args") or {}).get(name)
    if v is None and call.get("skill") in SKILLS:
        try:
            v = SKILLS[call["skill"]].param(name).default
        except (KeyError, ValueError, AttributeError):
            v = None
    return v


def _mag(v: float, small: float, medium: float) -> str:
    return "s" if abs(v) <= small else "m" if abs(v) <= medium else "l"


def _ratio_class(head: str, r: float) -> str:
    table = SCALE_RATIO[head]
    sign = "+" if r > 1 else "-"
    return min((k for k in table if k[0] == sign), key=lambda k: abs(math.log(table[k]) - math.log(r)))


def labels_from_change(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> Optional[tuple[dict[str, str], Optional[str], Optional[str]]]:
    """(labels, obj, tgt) of the plan change ``before`` -> ``after``; None when nothing changed.

    Plan edits win over argument changes: a longer plan is an append, a changed object / target a retarget.
    Argument changes take, per head, the largest change over the plan's steps."""
    if len(after) > len(before):
        new = after[len(before):]
        obj = next((c["args"].get("object") for c in new if c.get("skill") == "pick"), None)
        tgt = next((c["args"].get("target") for c in new if c.get("skill") == "place"), None)
        return base_labels(level="plan", plan_op="append"), obj, tgt
    for b, a in zip(before, after):
        if (b.get("args") or {}).get("object") != (a.get("args") or {}).get("object") and a.get("skill") == "pick":
            return base_labels(level="plan", plan_op="retarget_object"), a["args"].get("object"), None
        if (b.get("args") or {}).get("target") != (a.get("args") or {}).get("target") and a.get("skill") == "place":
            return base_labels(level="plan", plan_op="retarget_target"), None, a["args"].get("target")
    lab = base_labels()
    changed = False
    for i, axis in enumerate(("x", "y", "z")):
        d = max((float((_arg(a, "offset") or [0, 0, 0])[i]) - float((_arg(b, "offset") or [0, 0, 0])[i]) for b, a in zip(before, after)),
                key=abs, default=0.0)
        if abs(d) > 1e-4:
            lab[axis] = ("+" if d > 0 else "-") + _mag(d, SMALL_M, MEDIUM_M)
            changed = True
    dy = max((float(_arg(a, "yaw") or 0.0) - float(_arg(b, "yaw") or 0.0) for b, a in zip(before, after)), key=abs, default=0.0)
    if abs(dy) > 1e-4:
        lab["yaw"] = ("+" if dy > 0 else "-") + _mag(dy, SMALL_RAD, MEDIUM_RAD)
        changed = True
    for h in SCALE_KEYS:
        rs = [float(_arg(a, h)) / float(_arg(b, h)) for b, a in zip(before, after)
              if _arg(b, h) not in (None, 0) and _arg(a, h) is not None]
        r = max(rs, key=lambda v: abs(math.log(v)) if v > 0 else 0.0, default=1.0)
        if r > 0 and abs(math.log(r)) > 1e-3:
            lab[h] = _ratio_class(h, r)
            changed = True
    return (lab, None, None) if changed else None


def flipped(lab: dict[str, str]) -> dict[str, str]:
    """The same labels with every direction reversed ("no, the other way")."""
    out = dict(lab)
    for k in SIGNED_KEYS + SCALE_KEYS:
        v = out.get(k, "none")
        if v != "none":
            out[k] = ("-" if v[0] == "+" else "+") + v[1:]
    out["hist"], out["hmag"] = "new", "same"
    return out


def _survived(before: list[dict[str, Any]], after: list[dict[str, Any]], final: list[dict[str, Any]]) -> bool:
    """Whether the change before -> after is still in ``final`` (same objects; same sign, >= half the size)."""
    for i, (b, a) in enumerate(zip(before, after)):
        if i >= len(final):
            return False
        f = final[i]
        for k in ("object", "target"):
            if (b.get("args") or {}).get(k) != (a.get("args") or {}).get(k) and (f.get("args") or {}).get(k) != (a.get("args") or {}).get(k):
                return False
        for j in range(3):
            d = float((_arg(a, "offset") or [0, 0, 0])[j]) - float((_arg(b, "offset") or [0, 0, 0])[j])
            if abs(d) > 1e-4:
                kept = float((_arg(f, "offset") or [0, 0, 0])[j]) - float((_arg(b, "offset") or [0, 0, 0])[j])
                if kept * d <= 0 or abs(kept) < 0.5 * abs(d):
                    return False
        for k in ("yaw",) + SCALE_KEYS:
            va, vb, vf = _arg(a, k), _arg(b, k), _arg(f, k)
            if va is None or vb is None or vf is None:
                continue
            d, kept = float(va) - float(vb), float(vf) - float(vb)
            if abs(d) > 1e-6 and (kept * d <= 0 or abs(kept) < 0.5 * abs(d)):
                return False
    for extra in after[len(before):]:
        if extra not in final:
            return False
    return True


def _ran_after(rec: dict[str, Any], ev: dict[str, Any]) -> bool:
    """Whether a step the correction changed ran, and worked, after it was said, and had not just worked
    before it (a change to a step that had already worked, like praise misread as "more", proves nothing)."""
    before, after = ev.get("before") or [], ev.get("after") or []
    changed = {i for i, (b, a) in enumerate(zip(before, after)) if b != a} | set(range(len(before), len(after)))
    t = ev.get("t", 0.0)
    runs = [s for s in rec.get("steps", []) if s.get("index") in changed]
    earlier = [s for s in runs if s.get("t", 0.0) < t]
    if earlier and (earlier[-1].get("outcome") or {}).get("success") and not ev.get("during_motion"):
        return False
    return any(s.get("t", 0.0) >= t and (s.get("outcome") or {}).get("success") for s in runs)


WORD = re.compile(r"[a-z']+")
STOPWORDS = frozenset("a an the to by it its her him his i me my mean some bit little touch more less now please that this just "
                      "like uh um er and of in on at cm mm centimetres centimeters millimetres no yes "
                      "said say again sorry good lot much further farther way slightly tad move go bring".split())  # fillers, restating, size words


def content_words(text: str, common: frozenset[str] = frozenset()) -> set[str]:
    """Words of an utterance that say what it is about (no stop words, no words common to most utterances)."""
    return {w for w in WORD.findall(text.lower()) if w not in STOPWORDS and w not in common and len(w) > 1}


def similar(a: str, b: str, common: frozenset[str] = frozenset()) -> bool:
    """Whether ``b`` says the same thing as ``a`` again (they share a content word): the user restating."""
    stem = lambda ws: {w[:4] for w in ws}  # noqa: E731  ("leftish" restates "left")
    return bool(stem(content_words(a, common)) & stem(content_words(b, common)))


def common_words(records: Iterable[dict[str, Any]], fraction: float = 0.2) -> frozenset[str]:
    """Words in more than ``fraction`` of the grounded utterances of ``records`` (magnitude words, fillers)."""
    texts = [e["utterance"] for r in records for e in _events(r) if e.get("kind") == "correction" and e.get("utterance")]
    df: dict[str, int] = {}
    for t in texts:
        for w in set(WORD.findall(t.lower())):
            df[w] = df.get(w, 0) + 1
    return frozenset(w for w, n in df.items() if texts and n / len(texts) > fraction)


def _events(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """Grounded corrections, undos and unchanged utterances of an episode, in time order."""
    evs = []
    for c in rec.get("corrections", []):
        kind = (c.get("parsed") or {}).get("kind", "correction")
        evs.append({**c, "kind": kind, "changed": True})
    for u in rec.get("utterances", []):
        evs.append({**u, "changed": False})
    evs.sort(key=lambda e: e.get("t", 0.0))
    return evs


def _example(rec: dict[str, Any], ev: dict[str, Any], plan: list[dict[str, Any]], history: list[dict[str, Any]],
             lab: dict[str, str], obj: Optional[str], tgt: Optional[str], source: str) -> dict[str, Any]:
    step = max(0, min(int(ev.get("step", 0)), len(plan) - 1))
    lab = {**lab, "active": active_of(lab)}  # the joint "which arguments change" head the policy reads first
    return {"kind": "ground", "scene": contract_scene(rec.get("scene")), "task": rec.get("task", ""), "plan": plan,
            "step": step, "step_skill": plan[step]["skill"], "history": history, "has_history": int(bool(history)),
            "utterance": ev["utterance"], "labels": lab, "numbers": {}, "obj": obj, "tgt": tgt, "source": source,
            "episode": rec.get("id")}


def _plan_example(rec: dict[str, Any]) -> Optional[dict[str, Any]]:
    final = rec.get("final_plan") or []
    pairs = []
    for i, c in enumerate(final):
        if c.get("skill") == "pick":
            nxt = final[i + 1] if i + 1 < len(final) and final[i + 1].get("skill") == "place" else None
            pairs.append((c["args"].get("object"), nxt["args"].get("target") if nxt else None))
    if not pairs:
        return None
    scene = contract_scene(rec.get("scene"))
    names = {o["name"] for o in scene["objects"]}
    if any(o not in names or (t is not None and t not in names) for o, t in pairs):
        return None
    if len(pairs) == 1:
        o, t = pairs[0]
        ex = {"labels": {"task": "move" if t else "pick_only"}, "obj": o, "tgt": t, "set": []}
    elif all(t == pairs[0][1] and t for _, t in pairs):
        ex = {"labels": {"task": "all_to"}, "obj": None, "tgt": pairs[0][1], "set": [o for o, _ in pairs]}
    else:
        colors = {o["name"]: o.get("color") for o in scene["objects"]}
        if not all(t and colors.get(o) == colors.get(t) for o, t in pairs):
            return None
        ex = {"labels": {"task": "sort"}, "obj": None, "tgt": None, "set": []}
    return {**ex, "kind": "plan", "scene": scene, "task": rec.get("task", ""), "final_plan": final, "source": "plan",
            "episode": rec.get("id")}


def said_size(lab: dict[str, str], utterance: str) -> dict[str, str]:
    """A revealed label of an utterance that says its own size ("4 cm to port", "aft by 4 cm"): the one offset (yaw)
    it moves gets the "said a number" class ``n``, whatever size the answer or restatement that revealed it had;
    the number itself is read from the words at grounding time. Other labels are returned as they are."""
    from agent.grounder.numbers import parse_quantities

    q = parse_quantities(utterance)
    moved = [k for k in SIGNED_KEYS + SCALE_KEYS if lab.get(k, "none") != "none"]
    if len(q) != 1 or len(moved) != 1 or moved[0] not in SIGNED_KEYS:
        return lab
    if (q[0].kind == "length") != (moved[0] != "yaw"):
        return lab
    return {**lab, moved[0]: lab[moved[0]][0] + "n"}


def _sure(ev: dict[str, Any]) -> bool:
    """Whether the policy read a correction surely, in words it knows: then "no, the other way" right after it is
    the user taking back a direction they said backwards, not a misreading, and it teaches nothing."""
    p = ev.get("parsed") or {}
    return float(p.get("confidence") or 0.0) >= SURE and not p.get("unknown_words")


def _relative(ev: dict[str, Any]) -> bool:
    """Whether the policy read ``ev`` as more, less or the reverse of the last change ("much further", "the other
    way"): its change then says what the *last* correction was about, not what the user meant by its own words."""
    return str((ev.get("parsed") or {}).get("hist") or "new") != "new"


def _answer(evs: list[dict[str, Any]], ev: dict[str, Any], same: list[int], common: frozenset[str]):
    """The label of the answer to the robot's question about ``ev`` (an utterance it did not act on): the change
    the next utterance about the same step made, unless what the user said after that answer shows the answer
    was not what they meant (an undo, "no, the other way", or going back to the words of ``ev``)."""
    ans = evs[same[0]]
    if ans.get("kind") != "correction" or not ans.get("changed") or ans.get("before") is None:
        return None
    then = evs[same[1]] if len(same) > 1 else None
    if then is not None and (then.get("kind") == "undo" or CONTRADICTION.search(str(then.get("utterance", "")))
                             or similar(ev["utterance"], str(then.get("utterance", "")), common)):
        return None
    return labels_from_change(ans["before"], ans["after"])


def episode_examples(rec: dict[str, Any], stats: Optional[HindsightStats] = None,
                     common: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Hindsight-labelled examples of one episode record (rules in the module docstring)."""
    stats = stats if stats is not None else HindsightStats()
    evs = _events(rec)
    final = rec.get("final_plan") or []
    success = rec.get("success") is True
    out: list[dict[str, Any]] = []
    labels: dict[int, tuple[dict[str, str], Optional[str], Optional[str]]] = {}  # event index -> revealed label
    plans: dict[int, list[dict[str, Any]]] = {}
    plan = rec.get("initial_plan") or []
    for i, ev in enumerate(evs):  # the plan each utterance was grounded against
        plans[i] = ev.get("before") or plan
        if ev.get("changed") and ev.get("after") is not None:
            plan = ev["after"]
    # walk backwards so that a restatement's revealed label is known before the utterance it restates
    for i in range(len(evs) - 1, -1, -1):
        ev = evs[i]
        if ev.get("kind") != "correction" or not ev.get("utterance") or not plans[i]:
            continue
        same = [j for j in range(i + 1, len(evs)) if int(evs[j].get("step", -1)) == int(ev.get("step", -2))]
        nxt = evs[same[0]] if same else None
        # the first later utterance about the same step that says the same thing again and has a label
        later_kept = next((j for j in same if j in labels and evs[j].get("kind") == "correction"
                           and similar(ev["utterance"], evs[j]["utterance"], common)), None)
        grounded_next = nxt is not None and nxt.get("kind") == "correction"
        restated = grounded_next and similar(ev["utterance"], nxt["utterance"], common)
        own = labels_from_change(ev["before"], ev["after"]) if ev.get("changed") else None
        source, lab = None, None
        if nxt is not None and nxt.get("kind") == "undo":
            after_undo = next((j for j in same[1:] if j in labels), None)
            if after_undo is not None:
                source, lab = "undone", labels[after_undo]
        elif nxt is not None and CONTRADICTION.search(str(nxt.get("utterance", ""))):
            if own is not None and own[0]["level"] == "skill" and not _sure(ev):
                source, lab = "contradicted", (flipped(own[0]), None, None)
        elif restated or (not ev.get("changed") and grounded_next) or (
                ev.get("changed") and not _survived(ev["before"], ev["after"], final) and later_kept is not None):
            # "say it again in other words": the next utterance about the step answers; only one the robot acted on
            # says what was meant (one it asked about again is not followed further: the user may have moved on)
            asked = bool(not ev.get("changed") and ev.get("question") and grounded_next)
            # an answer read as more / less / the reverse of the last change ("much further" after "heaps to port" was
            # not understood) repeats the last move, which may have gone the other way: it says nothing of this one
            answered = asked and bool(nxt.get("changed")) and not _relative(nxt)
            j = same[0] if (restated or answered) and same[0] in labels else None if asked else later_kept
            if j is not None and answered and not restated and _answer(evs, ev, same, common) is None:
                j = None  # the user undid, took back or went back on the answer: whatever it came to mean, not this
            answer = _answer(evs, ev, same, common) if answered and j is None else None
            if answer is not None and not CONTRADICTION.search(str(ev.get("utterance", ""))):
                source, lab = "restated", answer
            elif j is not None and not CONTRADICTION.search(str(ev.get("utterance", ""))):
                source, lab = "restated", labels[j]
                if any(str(v).endswith("n") for k, v in lab[0].items() if k in SIGNED_KEYS) and evs[j].get("changed"):
                    # "7 mm below" reveals a direction and a size, not that this utterance said a number
                    lab = labels_from_change(evs[j]["before"], evs[j]["after"]) or lab
        elif (ev.get("changed") and (success or nxt is None) and _survived(ev["before"], ev["after"], final)
              and _ran_after(rec, ev)):
            parsed = ev.get("parsed") or {}
            source, lab = "kept", labels_from_parsed(parsed) if parsed.get("level") else own
        if lab is None:
            stats.dropped += 1
            continue
        if source != "kept":  # a revealed label stands for itself, not for "more of the last one"
            lab = (said_size({**lab[0], "hist": "new", "hmag": "same"}, str(ev["utterance"])), lab[1], lab[2])
        labels[i] = lab
        history = [{"utterance": e["utterance"], "step": e.get("step", 0)} for e in evs[:i]
                   if e.get("kind") == "correction" and e.get("step") == ev.get("step")]
        if source != "kept":
            history = []
        out.append(_example(rec, ev, plans[i], history, *lab, source))
        stats.add(source)
    out.reverse()
    if success:
        p = _plan_example(rec)
        if p is not None:
            out.append(p)
            stats.plan += 1
    return out


def examples_from_records(records: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], HindsightStats]:
    """All hindsight examples of ``records`` (ended episodes only) and the per-rule counts."""
    stats = HindsightStats()
    out: list[dict[str, Any]] = []
    ended = [r for r in records if r.get("status") in ("success", "failure")]
    common = common_words(ended)
    for rec in ended:
        out.extend(episode_examples(rec, stats, common))
    return out, stats


def target_json(ex: dict[str, Any]) -> dict[str, Any]:
    """The structured answer of an example, as the chat export's assistant message."""
    if ex["kind"] == "plan":
        return {"plan": ex.get("final_plan") or [], "task": ex["labels"]["task"]}
    lab = ex["labels"]
    out: dict[str, Any] = {"level": lab["level"]}
    if lab["level"] == "skill":
        out.update({k: v for k, v in lab.items() if k not in ("level", "plan_op", "active") and v not in ("none", "new", "same")})
    elif lab["level"] == "plan":
        out.update({"plan_op": lab["plan_op"], **({"object": ex["obj"]} if ex.get("obj") else {}),
                    **({"target": ex["tgt"]} if ex.get("tgt") else {})})
    return out


def to_chat(ex: dict[str, Any]) -> dict[str, Any]:
    """One chat-format training record ({"messages": [system, user, assistant]}) for hosted or ``hf`` models."""
    system = ("You ground a robot user's words into a structured change of the current skill plan. "
              "Frames: robot base, x forward, y left, z up; metres and radians. Answer with JSON only.")
    if ex["kind"] == "plan":
        user = {"scene": ex["scene"], "task": ex["task"]}
    else:
        user = {"scene": ex["scene"], "task": ex["task"], "plan": ex["plan"], "step": ex["step"], "history": ex["history"],
                "utterance": ex["utterance"]}
    return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": json.dumps(user)},
                         {"role": "assistant", "content": json.dumps(target_json(ex))}]}


def write_chat_jsonl(examples: Iterable[dict[str, Any]], path: str) -> int:
    """Write ``examples`` as chat JSON Lines; returns how many."""
    n = 0
    with open(path, "w") as f:
        for ex in examples:
            f.write(json.dumps(to_chat(ex)) + "\n")
            n += 1
    return n

