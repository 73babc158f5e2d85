"""Learning rules: what one ended episode changes in the knowledge base (:class:`Learner.ingest`).

1. **Credit** (:func:`memory.credit.assign`): only components of corrections that answered a problem and after
   which the step succeeded become lesson *instances*; weak ones (nothing tells the parts of a multi-part
   correction apart) become hypotheses.
2. **Evidence raises confidence, application does not.** An instance joins the entry of the same lesson whose
   scope covers its object, or that widens by one attribute to cover it (:mod:`memory.scope`); the episode
   becomes a source and confidence rises (``CONFIRM_GAIN``). A hypothesis (``status`` 'hypothesis',
   ``HYPOTHESIS_CONFIDENCE``, never applied) becomes active on a second instance from another episode and in other
   words. An entry that was applied and left alone only counts ``stats['applied']``: it gains no source.
3. **Corrected back, or "don't do that again"**: the entry applied to that step is weakened (``WEAKEN_FACTOR``,
   ``NEGATIVE_FACTOR``), the object becomes a counterexample (``against``), and the scope is narrowed so it no
   longer covers it (evidence that then falls outside moves to a new entry).
4. **Re-run, where a simulator is at hand** (``ingest(..., trial=...)``, :mod:`memory.rerun`): a part credited after
   a failure is kept only if the step fails without it in a replay; one the step does without is dropped.
5. Objects a step did fine on without a lesson of that kind are counterexamples too: scopes never widen over them.
6. **A generalisation is tested where a simulator is at hand**: a lesson learned from failures and applied to an
   object it was never taught on (its scope widened over it) is replayed without it; if that step works without it
   too, the object becomes a counterexample and the scope narrows (``stats['unneeded']``), so a force learned on a
   medium and a large blue block stops riding onto the small one the simulator shows does fine without it.

Only successful episodes teach; "don't do that again" weakens in any episode. Idempotent per episode id.
"""
from __future__ import annotations

import json
import math
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import numpy as np

from memory import scope as sc
from memory.credit import (Credit, Instance, StepFacts, assign, change_components, change_for, ident, is_negative_feedback,
                           is_success, shares_target)
from memory.entry import AGAINST_MAX, EVIDENCE_MAX, Entry, describe_entry
from memory.errors import EntryNotFound, KBError
from memory.index import IndexSync
from memory.knowledge import matching_steps
from memory.rerun import StepTrial, last_step, recheck, without
from memory.retrieval import Encoders
from memory.store import EntryStore, Txn

INITIAL_CONFIDENCE = 0.6  # one credited instance
HYPOTHESIS_CONFIDENCE = 0.2  # below memory.knowledge.DEFAULT_MIN_CONFIDENCE: stored, never applied
CONFIRM_GAIN = 0.25  # confidence += gain * (1 - confidence) per new independent instance
WEAKEN_FACTOR = 0.5  # confidence *= factor when the applied entry was corrected back
NEGATIVE_FACTOR = 0.3  # confidence *= factor on "don't do that again"
CORRECTED_BACK = 0.5  # corrected back: the corrections undid at least this fraction of the applied change


@dataclass
class IngestReport:
    """What one ``ingest`` did (entry ids), and the parts of corrections it did not store (``dropped``, why)."""

    episode: str
    taught: bool = False
    added: list[int] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    weakened: list[int] = field(default_factory=list)
    narrowed: list[int] = field(default_factory=list)
    hypotheses: list[int] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    skipped: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def confirmed(c: float) -> float:
    """Confidence after one more independent instance."""
    return round(c + CONFIRM_GAIN * (1.0 - c), 4)


def entry_scope(e: Entry) -> tuple[str, sc.Scope]:
    """(role, scope) of a learned entry, read from its lesson key and conditions."""
    role = e.lesson.split("|")[1] if e.lesson.count("|") == 3 else "object"
    return role, {k.split("_", 1)[1]: v for k, v in e.conditions.items() if k.startswith(role + "_") and v is not None}


def hypotheses(e: Entry) -> list[dict[str, Any]]:
    """The entry's competing scope hypotheses with evidence counts (:func:`memory.scope.hypotheses`); [] for an
    entry without evidence."""
    _, s = entry_scope(e)
    return sc.hypotheses([ev["object"] for ev in e.evidence if isinstance(ev.get("object"), dict)], e.against, s)


def describe(e: Entry) -> str:
    role, scope = entry_scope(e)
    subject = sc.words(scope)
    if role == "held":
        subject = f"carrying {subject}"
    return describe_entry(subject, e.effect.get("skill", ""), e.effect.get("changes", []))


def _props(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d.get(k) for k in ("name", "kind", "color", "size")}


class Learner:
    """Applies the learning rules (module docstring) to a store, keeping its indexes in step."""

    def __init__(self, store: EntryStore, sync: IndexSync, encoders: Encoders) -> None:
        self.store = store
        self.sync = sync
        self.enc = encoders

    def ingest(self, episode: dict[str, Any], images: Optional[dict[str, np.ndarray]] = None,
               trial: Optional[StepTrial] = None) -> IngestReport:
        """Learn from one episode record (``memory.episodes``); see the module docstring. ``trial``: where the world is
        a simulator, a replay of the episode's start (:data:`memory.rerun.StepTrial`) that tests which credited part
        fixed a failed step (:func:`memory.rerun.recheck`)."""
        if not isinstance(episode, dict) or not episode.get("id"):
            raise KBError("an episode is a dict with an 'id' (see memory.episodes)")
        eid = str(episode["id"])
        rep = IngestReport(episode=eid)
        if self.store.episode_report(eid) is not None:
            rep.skipped = "already ingested"
            return rep
        ok = is_success(episode)
        credit = assign(episode)
        if not ok:
            credit.instances = []
            rep.skipped = f"episode status {episode.get('status')!r}: only successful episodes teach"
        elif trial is not None and credit.instances:
            recheck(credit, episode, trial)
        rep.dropped = list(credit.dropped)
        with self.store.lock, self.store.transaction(self.sync.after_write) as txn:
            used = self._used(txn, episode)
            claimed = self._judge_used(txn, episode, credit, used, rep, trial if ok else None)
            for inst in credit.instances:
                self._learn(txn, inst, eid, claimed.get((inst.step, inst.component)), images, rep)
            if ok:
                self._counterexamples(txn, credit, rep)
            rep.taught = bool(rep.added or rep.merged or rep.hypotheses)
            txn.con.execute("INSERT INTO episodes VALUES (?, ?, ?)", (eid, time.time(), json.dumps(rep.to_dict())))
        return rep

    # --- the knowledge the episode used ------------------------------------------------------------
    def _used(self, txn: Txn, episode: dict[str, Any]) -> list[Entry]:
        out = []
        for k in episode.get("knowledge_used") or []:
            if isinstance(k, dict) and isinstance(k.get("id"), int):
                try:
                    out.append(self.store.get(txn.con, int(k["id"])))
                except EntryNotFound:
                    continue  # forgotten since
        return out

    def _judge_used(self, txn: Txn, episode: dict[str, Any], credit: Credit, used: list[Entry], rep: IngestReport,
                    trial: Optional[StepTrial] = None) -> dict[Any, Entry]:
        """Count applications, and weaken and narrow what was corrected back or disowned; never confirm. With a
        ``trial`` (a successful episode in a simulator), a physical lesson applied beyond the objects it was taught on
        is tested there: when the step also succeeds without it, that object becomes a counterexample and the scope
        narrows (:meth:`_unneeded`; not weakened: where it was taught it still holds).

        Returns {(step ident, component): entry} for entries applied to a step whose component the user then
        pushed further the same way (the new instance joins that entry)."""
        base = episode.get("base_plan") or []
        scene, task = episode.get("scene") or {}, episode.get("task")
        facts = {f.ident: f for f in credit.steps}
        already, negatives = _negatives(episode)
        applied: list[tuple[Entry, dict[str, float], list[tuple[int, StepFacts]]]] = []
        for e in used:
            comps = {c: v for ch in e.effect.get("changes", []) for c, v in change_components(ch).items()}
            hits = [(i, facts.get(ident(base, i))) for i in matching_steps(e.to_dict(), base, scene, task)]
            applied.append((e, comps, [(i, f) for i, f in hits if f is not None
                                       and any(f.knowledge.get(c, 0.0) * v > 0 for c, v in comps.items())]))
        tied = any(i in negatives for _, _, hits in applied for i, _ in hits)
        claimed: dict[Any, Entry] = {}
        for e, comps, hits in applied:
            if not hits:
                continue
            e.stats["applied"] = e.stats.get("applied", 0) + 1
            back = [f for _, f in hits if any(f.corrected.get(c, 0.0) * v < 0 and abs(f.corrected[c]) >= CORRECTED_BACK * abs(v)
                                              and not shares_target(f.ident, c) for c, v in comps.items())]
            # "don't do that again" about a step this entry changed; with no step it can be tied to, all applied knowledge
            disowned = [f for i, f in hits if i in negatives] or ([f for _, f in hits] if negatives and not tied else [])
            old_text = e.text
            if disowned or back:
                if e.id not in already:
                    e.confidence = round(e.confidence * (NEGATIVE_FACTOR if disowned else WEAKEN_FACTOR), 4)
                    e.stats["contradicted"] = e.stats.get("contradicted", 0) + 1
                    rep.weakened.append(int(e.id))  # type: ignore[arg-type]
                role, _ = entry_scope(e)
                for f in disowned + back:
                    if f.roles.get(role) is not None:
                        self._add_against(e, f.roles[role])  # type: ignore[arg-type]
                if e.lesson and self._narrow(txn, e, rep):
                    rep.narrowed.append(int(e.id))  # type: ignore[arg-type]
            else:
                rep.applied.append(int(e.id))  # type: ignore[arg-type]
                role, _ = entry_scope(e)
                unneeded = self._unneeded(e, role, comps, hits, episode, trial) if trial is not None else []
                if unneeded:
                    e.stats["unneeded"] = e.stats.get("unneeded", 0) + len(unneeded)
                    for f in unneeded:
                        self._add_against(e, f.roles[role])  # type: ignore[arg-type]
                    if e.lesson and self._narrow(txn, e, rep):
                        rep.narrowed.append(int(e.id))  # type: ignore[arg-type]
                for _, f in hits:
                    for c, v in comps.items():
                        if f.corrected.get(c, 0.0) * v > 0:
                            claimed[(f.ident, c)] = e
            e.updated = time.time()
            self._save(txn, e, old_text)
        return claimed

    @staticmethod
    def _unneeded(e: Entry, role: Optional[str], comps: dict[str, float], hits: list[tuple[int, StepFacts]],
                  episode: dict[str, Any], trial: StepTrial) -> list[StepFacts]:
        """Steps where ``e`` was applied to an object it was never taught on, the step then worked with no correction
        of what ``e`` changed, and a replay shows the step also works without ``e``: a generalisation the evidence
        does not support there. Only lessons every piece of evidence of which answered a failure (physics the
        simulator reproduces); a placement wish is not the simulator's to judge."""
        if role is None or not e.evidence or not all(str(ev.get("problem", "")).startswith("failure") for ev in e.evidence):
            return []
        taught = {str((ev.get("object") or {}).get("name")) for ev in e.evidence}
        final = episode.get("final_plan") or []
        base = episode.get("base_plan") or []
        base_by = {ident(base, i): c for i, c in enumerate(base)}
        out = []
        for _i, f in hits:
            props = f.roles.get(role)
            if props is None or str(props.get("name")) in taught or not f.ok or f.failed or f.index >= len(final):
                continue
            if any(abs(f.corrected.get(c, 0.0)) > 1e-9 for c in comps):
                continue
            last = last_step(final, f.index)
            if not trial(final, last):
                continue  # the replay does not reproduce the episode: it cannot tell
            plan = list(final)
            base_args = (base_by.get(f.ident) or {}).get("args") or {}
            for c in comps:
                plan = without(plan, f.index, c, base_args)
            if trial(plan, last) is True:
                out.append(f)
        return out

    # --- new evidence ------------------------------------------------------------------------------
    def _learn(self, txn: Txn, inst: Instance, eid: str, prefer: Optional[Entry], images: Optional[dict[str, np.ndarray]],
               rep: IngestReport) -> None:
        item = {"episode": eid, "utterance": " / ".join(inst.utterances), "object": _props(inst.props),
                "value": change_for(inst.component, inst.value)["value"], "problem": inst.problem, "weak": inst.weak}
        target, scope = None, None
        cands = ([prefer] if prefer is not None and prefer.lesson == inst.lesson else []) + \
            [x for x in self.store.by_lesson(txn.con, [inst.lesson]) if prefer is None or x.id != prefer.id]
        for x in cands:
            _, s = entry_scope(x)
            w = sc.widen(s, inst.props, x.against)
            if w is not None and (target is None or len(w) > len(scope)):  # type: ignore[arg-type]
                target, scope = x, w
        if target is None:
            e = Entry(text="-", scope="preference" if inst.role == "target" else "skill",
                      effect={"skill": inst.skill, "changes": [change_for(inst.component, inst.value)]},
                      conditions=sc.conditions(inst.skill, inst.role, sc.object_scope(inst.props)),
                      confidence=HYPOTHESIS_CONFIDENCE if inst.weak else INITIAL_CONFIDENCE,
                      sources=[] if inst.weak else [eid], created=time.time(), updated=time.time(),
                      basis=sc.level(sc.object_scope(inst.props)), subject=inst.props.get("name"),
                      status="hypothesis" if inst.weak else "active", lesson=inst.lesson, evidence=[item])
            e.text = describe(e)
            img = images.get(inst.props.get("name")) if images and inst.props.get("name") else None
            vv = self.enc.visual.encode(img) if img is not None else None
            tv = self.enc.embed([e.text])[0]
            self.store.check_space(txn.con, "text_space", self.enc.embedder.name, len(tv), True)
            if vv is not None:
                self.store.check_space(txn.con, "visual_space", self.enc.visual.name, len(vv), True)
            self.store.insert(txn, e, tv, vv)
            (rep.hypotheses if inst.weak else rep.added).append(int(e.id))  # type: ignore[arg-type]
            return
        x = target
        old_text = x.text
        x.evidence = (x.evidence + [item])[-EVIDENCE_MAX:]
        x.conditions = sc.conditions(inst.skill, inst.role, scope)  # type: ignore[arg-type]
        x.basis = sc.level(scope)  # type: ignore[arg-type]
        x.stats["merged"] = x.stats.get("merged", 0) + 1
        new_episode = eid not in x.sources
        if not inst.weak or x.status == "hypothesis":
            x.effect = {"skill": inst.skill, "changes": [change_for(inst.component, inst.value)]}  # the newer value wins
        if x.status == "hypothesis":
            independent = all(ev.get("episode") != eid and ev.get("utterance") != item["utterance"] for ev in x.evidence[:-1])
            if not inst.weak or independent:
                x.status = "active"
                x.confidence = max(x.confidence, INITIAL_CONFIDENCE)
                x.sources = list(dict.fromkeys(x.sources + [str(ev["episode"]) for ev in x.evidence if ev.get("episode")]))
                rep.confirmed.append(int(x.id))  # type: ignore[arg-type]
        elif not inst.weak and new_episode:
            x.confidence = confirmed(x.confidence)
            x.sources = x.sources + [eid]
            x.stats["confirmed"] = x.stats.get("confirmed", 0) + 1
            rep.confirmed.append(int(x.id))  # type: ignore[arg-type]
        x.text = describe(x)
        x.updated = time.time()
        self._save(txn, x, old_text)
        rep.merged.append(int(x.id))  # type: ignore[arg-type]

    # --- counterexamples and narrowing -------------------------------------------------------------
    def _counterexamples(self, txn: Txn, credit: Credit, rep: IngestReport) -> None:
        by_key: dict[str, list[dict[str, Any]]] = {}
        for skill, role, comp, props in credit.fine():
            by_key.setdefault(f"{skill}|{role}|{comp}|", []).append(props)
        for key, plist in by_key.items():
            for e in self.store.by_lesson(txn.con, [key]):
                before = list(e.against)
                for p in plist:
                    self._add_against(e, p)
                if e.against == before:
                    continue
                old_text = e.text
                _, s = entry_scope(e)
                if any(sc.covers(s, q) for q in e.against) and self._narrow(txn, e, rep):
                    rep.narrowed.append(int(e.id))  # type: ignore[arg-type]
                self._save(txn, e, old_text)

    @staticmethod
    def _add_against(e: Entry, p: dict[str, Any]) -> None:
        q = _props(p)
        if all(sc.props_key(q) != sc.props_key(x) for x in e.against):
            e.against = (e.against + [q])[-AGAINST_MAX:]

    def _narrow(self, txn: Txn, e: Entry, rep: IngestReport) -> bool:
        """Re-derive ``e``'s scope from its evidence so that it covers no counterexample where it can; evidence
        that no longer fits moves to new entries. True if the scope changed. The caller saves ``e``."""
        role, old = entry_scope(e)
        if not e.evidence:
            return False
        skill = e.effect.get("skill", "")
        groups = sc.narrow([ev["object"] for ev in e.evidence], e.against)
        first, members = groups[0]
        if first == old:
            return False
        keep = [e.evidence[i] for i in members]
        for s, idx in groups[1:]:
            ev = [e.evidence[i] for i in idx]
            strong = [x for x in ev if not x.get("weak")]
            n = Entry(text="-", scope=e.scope, effect=json.loads(json.dumps(e.effect)), conditions=sc.conditions(skill, role, s),
                      confidence=e.confidence if strong else HYPOTHESIS_CONFIDENCE,
                      sources=list(dict.fromkeys(str(x["episode"]) for x in strong)), created=time.time(), updated=time.time(),
                      basis=sc.level(s), subject=ev[0]["object"].get("name"), status="active" if strong else "hypothesis",
                      lesson=e.lesson, evidence=ev, against=list(e.against))
            n.text = describe(n)
            self.store.insert(txn, n, self.enc.embed([n.text])[0])
            rep.added.append(int(n.id))  # type: ignore[arg-type]
        e.evidence = keep
        e.sources = [s for s in e.sources if any(str(x.get("episode")) == s for x in keep)] or e.sources[:1]
        e.conditions = sc.conditions(skill, role, first)
        e.basis = sc.level(first)
        e.text = describe(e)
        return True

    def narrow(self, txn: Txn, e: Entry, props: Optional[dict[str, Any]] = None) -> Entry:
        """The user narrows an entry. ``props`` (an object it must not cover: name, kind, color, size) becomes a
        counterexample and the scope is re-derived around it; without ``props`` the entry goes back to the object
        it was last taught on (it widens again only on new evidence). :class:`KBError` for an entry with no
        evidence (written by hand or imported from an older version): edit its conditions instead."""
        if not e.evidence or not e.lesson:
            raise KBError(f"entry #{e.id} has no evidence to narrow to (written by hand or imported); "
                          f"change its conditions with update() instead")
        old_text = e.text
        role, _ = entry_scope(e)
        if props is not None:
            self._add_against(e, props)
            self._narrow(txn, e, IngestReport(episode=""))
        else:
            last = sc.object_scope(e.evidence[-1]["object"])
            e.conditions = sc.conditions(e.effect.get("skill", ""), role, last)
            e.basis = sc.level(last)
            e.text = describe(e)
        e.updated = time.time()
        self._save(txn, e, old_text)
        return e

    def _save(self, txn: Txn, e: Entry, old_text: str) -> None:
        self.store.save(txn, e, self._vec(e) if e.text != old_text else None)

    def _vec(self, e: Entry) -> np.ndarray:
        return self.enc.embed([e.text])[0]


def merge_into(x: Entry, e: Entry, prefer_new: bool) -> bool:
    """Fold ``e`` into ``x`` in place, argument by argument (entries written by hand, imported or ``merge``d);
    True if every shared argument agreed.

    Agreement (same direction, within 35 %) confirms ``x``; a disagreement takes the newer value (``e``'s if
    ``prefer_new``) and lowers confidence a little. Sources, evidence and counterexamples are united.
    """
    agreed = True
    changes = {c["arg"]: dict(c) for c in x.effect.get("changes", [])}
    for c in e.effect.get("changes", []):
        old = changes.get(c["arg"])
        if old is None:
            changes[c["arg"]] = dict(c)
            continue
        if old.get("op") == c.get("op") and compare(old, c, 0.35) == "confirmed":
            if prefer_new:
                changes[c["arg"]] = dict(c)
            continue
        agreed = False
        if prefer_new:
            changes[c["arg"]] = dict(c)
    x.effect = {**x.effect, "changes": list(changes.values())}
    x.sources = list(dict.fromkeys(x.sources + e.sources))
    seen = {json.dumps(v, sort_keys=True) for v in x.evidence}
    x.evidence = (x.evidence + [v for v in e.evidence if json.dumps(v, sort_keys=True) not in seen])[-EVIDENCE_MAX:]
    x.against = (x.against + [q for q in e.against if all(sc.props_key(q) != sc.props_key(a) for a in x.against)])[-AGAINST_MAX:]
    x.stats["merged"] = x.stats.get("merged", 0) + 1
    if agreed:
        x.confidence = confirmed(x.confidence)
        x.stats["confirmed"] = x.stats.get("confirmed", 0) + 1
    else:
        x.confidence = round(max(0.5, 0.8 * x.confidence), 4)
    x.updated = max(x.updated, e.updated, time.time() if prefer_new else 0.0)
    if x.lesson:
        x.text = describe(x)
    elif x.basis and x.text.split(":", 1)[0]:
        x.text = describe_entry(x.text.split(":", 1)[0], x.effect.get("skill", ""), x.effect["changes"])
    return agreed


def compare(want: dict[str, Any], got: Optional[dict[str, Any]], tol: float) -> str:
    """'confirmed' (same direction, within ``tol`` relative), 'contradicted' (gone or reversed) or 'different'."""
    w, g = _as_vec(want), _as_vec(got)
    g = g or [0.0] * len(w)
    if len(g) != len(w):
        return "different"
    nw = math.sqrt(sum(x * x for x in w))
    if nw == 0:
        return "different"
    if sum(x * y for x, y in zip(w, g)) <= 0.25 * nw * nw:
        return "contradicted"
    return "confirmed" if math.sqrt(sum((x - y) ** 2 for x, y in zip(w, g))) <= tol * nw else "different"


def _as_vec(ch: Optional[dict[str, Any]]) -> list[float]:
    if ch is None:
        return []
    v = ch["value"]
    if isinstance(v, (list, tuple)):
        return [float(x) for x in v]
    return [math.log(float(v))] if ch.get("op") == "scale" else [float(v)]


def _negatives(episode: dict[str, Any]) -> tuple[set[int], set[int]]:
    """(ids the session already weakened live, base-plan steps the user said "don't do that again" about)."""
    already: set[int] = set()
    steps: set[int] = set()
    for c in episode.get("corrections") or []:
        parsed = c.get("parsed") if isinstance(c.get("parsed"), dict) else {}
        already |= {int(i) for i in parsed.get("weakened") or [] if isinstance(i, int)}
        if is_negative_feedback(str(c.get("utterance", ""))) and "weakened" not in parsed and isinstance(c.get("step"), int):
            steps.add(c["step"])
    for u in episode.get("utterances") or []:  # the session's own "don't do that again" (it weakened live)
        ids = {int(x) for ch in u.get("changes") or [] for x in re.findall(r"weakened #(\d+)", str(ch))}
        if u.get("kind") == "dont_again" and ids:
            already |= ids
            if isinstance(u.get("step"), int):
                steps.add(u["step"])
    return already, steps
