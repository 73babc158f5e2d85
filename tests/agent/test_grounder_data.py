"""The grammar's data files: JSON, validated on load, duplicate keys rejected (issue #19)."""
from __future__ import annotations

import json

import pytest

from agent.grounder import phrases
from agent.grounder.phrases import PhraseDataError, load_homophones, load_pools, load_strict


def test_shipped_files_load_and_have_no_duplicate_keys():
    pools = load_pools()
    assert {"dir_bare +y", "scale speed -m", "undo", "interjection", "foreign"} <= set(pools)
    h = load_homophones()
    assert set(h["left"]) >= {"lef", "leff", "laugh", "lefft"}  # the two old 'left' entries, merged
    for f in ("phrases.json", "homophones.json", "blocked.json"):
        load_strict(phrases.DATA / f)


def test_duplicate_keys_are_rejected(tmp_path):
    p = tmp_path / "dup.json"
    p.write_text('{"left": ["lef"], "right": ["write"], "left": ["laugh"]}')
    with pytest.raises(PhraseDataError, match="'left' appears twice"):
        load_strict(p)
    with pytest.raises(PhraseDataError):
        load_homophones(str(p))


@pytest.mark.parametrize("pool,match", [
    ({"core": [], "extra": ["x"]}, "non-empty"),
    ({"core": ["a", "a"], "extra": []}, "repeats"),
    ({"core": ["a"], "extra": ["a"]}, "both core and extra"),
    ({"core": ["a"]}, "must be"),
    ({"core": ["a", 3], "extra": []}, "non-string"),
])
def test_malformed_pools_are_rejected(tmp_path, pool, match):
    p = tmp_path / "pools.json"
    p.write_text(json.dumps({"bad": pool}))
    with pytest.raises(PhraseDataError, match=match):
        load_pools(str(p))


def test_a_blocked_phrase_in_a_pool_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(phrases, "blocked", lambda: frozenset({phrases.digest("slide it a little")}))
    p = tmp_path / "pools.json"
    p.write_text(json.dumps({"verbs": {"core": ["Slide it, a little!"], "extra": []}}))
    with pytest.raises(PhraseDataError, match="evaluation utterance"):
        load_pools(str(p))


def test_folding():
    assert phrases.fold("Too far, back a LITTLE!") == "too far back a little"
    assert phrases.fold_template("no, the {object}") == phrases.fold_template("no, the {r}") == "no the obj"
