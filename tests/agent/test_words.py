"""agent.words: the session words and what counts as a task at the task prompt."""
from __future__ import annotations

import pytest

from agent.words import task_question

OBJECTS = ["red block", "block", "red", "blue block", "block", "blue", "green bowl", "bowl", "green"]


@pytest.mark.parametrize("text", ["hello", "asdf qwer", "a bit more", "slower", "no, the blue one", "done",
                                  "a bit more to the left", "put it there"])
def test_text_that_is_not_a_task_gets_a_question(text) -> None:
    q = task_question(text, OBJECTS)
    assert q and "task" in q


@pytest.mark.parametrize("text", ["put the red block in the green bowl", "Place the blue block in the green bowl.",
                                  "move the red one to the bowl", "stack the blocks"])
def test_tasks_pass(text) -> None:
    assert task_question(text, OBJECTS) is None
