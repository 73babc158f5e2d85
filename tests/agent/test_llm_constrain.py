"""agent.llm.constrain: the incremental JSON-prefix recogniser used for constrained decoding."""
from __future__ import annotations

import json

import pytest

from agent.llm.constrain import JSONPrefix, is_json_prefix

GOOD = [
    "{}",
    ' { "k" : { } } ',
    '{"level": "skill", "plan": [{"skill": "pick", "args": {"object": "red block", "offset": [0, -0.015, 1e-3], "speed": 0.5}}]}',
    '{"a": [1, -2.5e+3, 0, 0.1, true, false, null, {"b": "x\\"y\\u00e9\\n"}], "c": [], "d": -0, "e": 1E5}',
]
BAD = ["[1]", '"x"', '{"a" 1}', "{a: 1}", '{"a": 01}', '{"a": 1.}', '{"a": tru e}', '{"a": 1,}', '{"a": [1,]}',
       "{}x", '{"a": "\x01"}', '{"a": "\\x"}', '{"a": 1]', '{"a": --1}', '{"a": .5}', '{"a": 1e}', '{"a": "\\u12g4"}',
       "{'a': 1}", '{"a": NaN}', "```json\n{}"]


@pytest.mark.parametrize("doc", GOOD)
def test_every_prefix_of_valid_json_is_accepted(doc):
    json.loads(doc)
    for i in range(len(doc) + 1):
        assert is_json_prefix(doc[:i]), doc[:i]
    p = JSONPrefix()
    assert p.feed(doc) and p.done


@pytest.mark.parametrize("doc", BAD)
def test_invalid_json_is_refused(doc):
    assert not is_json_prefix(doc)


def test_copies_are_independent_and_depth_is_bounded():
    p = JSONPrefix()
    assert p.feed('{"a": [')
    q = p.copy()
    assert q.feed("1]}") and q.done and not p.done
    assert p.feed("[[2]]]}") and p.done
    assert not JSONPrefix(max_depth=3).feed('{"a": [[[')
