"""Scope from evidence (memory.scope): one attribute widened at a time, never over a counterexample."""
from __future__ import annotations

from memory import scope as sc


def p(color, size, kind="block"):
    return {"name": f"{size} {color} {kind}", "kind": kind, "color": color, "size": size}


def test_widen_drops_one_differing_attribute_only():
    s = sc.object_scope(p("red", "small"))
    assert sc.widen(s, p("red", "small")) == s
    assert sc.widen(s, p("red", "large")) == {"kind": "block", "color": "red"}
    assert sc.widen(s, p("blue", "small")) == {"kind": "block", "size": "small"}
    assert sc.widen(s, p("blue", "large")) is None
    assert sc.widen({"kind": "block", "size": "small"}, p("green", "large")) == {"kind": "block"}
    assert sc.widen(s, p("red", "large"), against=[p("red", "medium")]) is None


def test_cluster_and_narrow_replay_the_evidence():
    ev = [p("red", "small"), p("blue", "small"), p("green", "small")]
    assert sc.cluster(ev) == [({"kind": "block", "size": "small"}, [0, 1, 2])]
    parts = sc.narrow(ev, [p("green", "small")])
    assert parts == [(sc.object_scope(ev[0]), [0]), (sc.object_scope(ev[1]), [1]), (sc.object_scope(ev[2]), [2])]
    assert not any(sc.covers(s, p("yellow", "small")) for s, _ in parts)


def test_hypotheses_count_evidence_and_words():
    ev = [p("red", "small"), p("blue", "small")]
    rows = {h["level"]: h for h in sc.hypotheses(ev, [p("green", "medium")], {"kind": "block", "size": "small"})}
    assert rows["size"]["chosen"] and rows["size"]["taught"] == 2 and rows["object"]["outside"] == 1
    assert rows["kind"]["against"] == 1 and rows["everything"]["words"] == "everything"
    assert sc.words({"kind": "block", "size": "small", "color": "red"}) == "small red blocks"
    assert sc.words({"name": "left side"}) == "the left side"
