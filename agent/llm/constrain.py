"""Constrained greedy decoding for the ``hf`` policy: inside one answer grammar, or inside JSON (validation still decides).

:class:`RegexPrefix` recognises prefixes of an answer *schema* written as a regular expression
(:func:`agent.llm.edits.edit_pattern`: keys, levels, arguments, the scene's object names, short numbers),
with the ``regex`` package's partial matching; :class:`JSONLogitsProcessor` drives either recogniser.

:class:`JSONPrefix` is an incremental character-level JSON recogniser: :meth:`JSONPrefix.feed` says
whether the text so far can still become one JSON object (top level must be an object; strings,
escapes, numbers, ``true`` / ``false`` / ``null``, nesting, whitespace). :class:`JSONLogitsProcessor`
uses it during generation: among the ``top_k`` best next tokens it keeps the best one whose text keeps
the output a valid JSON prefix (widening to ``wide_k``, then to the whole vocabulary, if none does), and once the object is closed it
allows only end-of-sequence. The output is therefore syntactically JSON, cheaply, for any tokenizer
(token texts are found by decoding, so byte-level BPE and SentencePiece both work).

This removes one failure mode of small local models (prose, code fences, broken brackets); it does not
make the content right. Every answer still goes through :mod:`agent.llm.parse`.
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Optional

_WS = " \t\n\r"
_NUM_END_OK = ("zero", "int", "frac", "exp")


class JSONPrefix:
    """Recognises prefixes of one JSON object, a character at a time; ``done`` once it has closed."""

    def __init__(self, max_depth: int = 32) -> None:
        self.stack: list[str] = []  # 'obj' / 'arr'
        self.mode = "start"
        self.num = ""  # number sub-state
        self.lit = ""  # rest of a literal being read
        self.key = False  # the string being read is an object key
        self.esc = 0  # 0: none, 1: after backslash, 2..5: reading \\uXXXX hex digits
        self.max_depth = max_depth

    @property
    def done(self) -> bool:
        return self.mode == "done"

    def copy(self) -> "JSONPrefix":
        q = copy.copy(self)
        q.stack = list(self.stack)
        return q

    def feed(self, text: str) -> bool:
        """Advance over ``text``; False (and the state is then unusable) as soon as it cannot be JSON."""
        for ch in text:
            if not self._char(ch):
                return False
        return True

    # --- the automaton --------------------------------------------------------------------------
    def _open(self, kind: str) -> bool:
        if len(self.stack) >= self.max_depth:
            return False
        self.stack.append(kind)
        self.mode = "key_or_close" if kind == "obj" else "value_or_close"
        return True

    def _end_value(self) -> None:
        self.mode = "after_value" if self.stack else "done"

    def _value(self, ch: str) -> bool:
        if ch == "{":
            return self._open("obj")
        if ch == "[":
            return self._open("arr")
        if ch == '"':
            self.mode, self.key, self.esc = "string", False, 0
            return True
        if ch == "-" or ch.isdigit():
            self.mode = "number"
            self.num = "sign" if ch == "-" else ("zero" if ch == "0" else "int")
            return ch in "-0123456789"
        for lit in ("true", "false", "null"):
            if ch == lit[0]:
                self.mode, self.lit = "literal", lit[1:]
                return True
        return False

    def _close(self, ch: str) -> bool:
        want = "obj" if ch == "}" else "arr"
        if not self.stack or self.stack[-1] != want:
            return False
        self.stack.pop()
        self._end_value()
        return True

    def _number(self, ch: str) -> Optional[bool]:
        """True/False when ``ch`` is consumed by the number; None when the number ended before ``ch``."""
        s = self.num
        if ch.isdigit() and ch.isascii():
            nxt = {"sign": "zero" if ch == "0" else "int", "int": "int", "dot": "frac", "frac": "frac",
                   "e": "exp", "esign": "exp", "exp": "exp"}.get(s)
            if nxt is None:  # a digit after a leading 0
                return False
            self.num = nxt
            return True
        if ch == "." and s in ("zero", "int"):
            self.num = "dot"
            return True
        if ch in "eE" and s in ("zero", "int", "frac"):
            self.num = "e"
            return True
        if ch in "+-" and s == "e":
            self.num = "esign"
            return True
        if s in _NUM_END_OK:
            self._end_value()
            return None
        return False

    def _char(self, ch: str) -> bool:
        m = self.mode
        if m == "string":
            if self.esc == 1:
                if ch == "u":
                    self.esc = 2
                    return True
                self.esc = 0
                return ch in '"\\/bfnrt'
            if self.esc >= 2:
                if ch not in "0123456789abcdefABCDEF":
                    return False
                self.esc = 0 if self.esc == 5 else self.esc + 1
                return True
            if ch == "\\":
                self.esc = 1
                return True
            if ch == '"':
                if self.key:
                    self.mode = "colon"
                else:
                    self._end_value()
                return True
            return ch >= " "  # control characters must be escaped
        if m == "number":
            r = self._number(ch)
            if r is not None:
                return r
            m = self.mode  # the number ended; ``ch`` belongs to what follows
        if m == "literal":
            if not self.lit or ch != self.lit[0]:
                return False
            self.lit = self.lit[1:]
            if not self.lit:
                self._end_value()
            return True
        if ch in _WS:
            return True
        if m == "start":
            return ch == "{" and self._open("obj")
        if m == "done":
            return False
        if m in ("key_or_close", "key"):
            if ch == '"':
                self.mode, self.key, self.esc = "string", True, 0
                return True
            return m == "key_or_close" and self._close(ch)
        if m == "colon":
            if ch == ":":
                self.mode = "value"
                return True
            return False
        if m == "value_or_close":
            if ch == "]":
                return self._close(ch)
            return self._value(ch)
        if m == "value":
            return self._value(ch)
        if m == "after_value":
            if ch == ",":
                self.mode = "key" if self.stack[-1] == "obj" else "value"
                return True
            if ch in "}]":
                return self._close(ch)
            return False
        return False


class RegexPrefix:
    """Recognises prefixes of the strings a regular expression matches (the answer *schema*, not just JSON syntax).

    Same interface as :class:`JSONPrefix` (``feed``, ``copy``, ``done``), so
    :class:`JSONLogitsProcessor` drives either. Uses the ``regex`` package's partial matching (a
    dependency of transformers); ``pattern`` is e.g. :func:`agent.llm.edits.edit_pattern`.
    """

    def __init__(self, pattern: Any) -> None:
        import regex

        self.pattern = regex.compile(pattern) if isinstance(pattern, str) else pattern
        self.text = ""

    @property
    def done(self) -> bool:
        return self.pattern.fullmatch(self.text) is not None

    def copy(self) -> "RegexPrefix":
        q = copy.copy(self)
        return q

    def feed(self, text: str) -> bool:
        self.text += text
        return self.pattern.fullmatch(self.text, partial=True) is not None


def is_json_prefix(text: str) -> bool:
    """Whether ``text`` can still be completed into one JSON object (or already is one)."""
    return JSONPrefix().feed(text)


class JSONLogitsProcessor:
    """A ``transformers`` LogitsProcessor that keeps greedy output a prefix of one JSON object (or of the schema).

    ``prefix``: text already placed after the prompt (``HFPolicy.force_prefix``). ``top_k``: candidates
    checked per step (best first); ``wide_k``: how far to look when none of those fits; then the whole
    vocabulary is searched, best first. ``start``: makes a fresh recogniser, :class:`JSONPrefix` (any JSON
    object, the default) or ``lambda: RegexPrefix(pattern)`` (one answer schema). When nothing fits, or the object is complete, only EOS is allowed. One instance per generation (it keeps state).
    """

    def __init__(self, tokenizer: Any, prefix: str = "", top_k: int = 16, wide_k: int = 256,
                 start: Optional[Callable[[], Any]] = None) -> None:
        self.tokenizer = tokenizer
        self._start = start or JSONPrefix  # a fresh recogniser: JSONPrefix (syntax) or RegexPrefix (schema)
        eos = tokenizer.eos_token_id
        self.eos_ids = list(eos) if isinstance(eos, (list, tuple)) else ([eos] if eos is not None else [])
        self.top_k, self.wide_k = top_k, wide_k
        self.prefix = prefix
        self._prompt_len: Optional[int] = None
        self._rows: list[tuple[JSONPrefix, str, bool]] = []  # (state, decoded text, broken)

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if self._prompt_len is None:
            self._prompt_len = int(input_ids.shape[1])
            start = self._start()
            ok = start.feed(self.prefix)
            self._rows = [(start.copy(), "", not ok) for _ in range(input_ids.shape[0])]
        out = torch.full_like(scores, float("-inf"))
        for b in range(input_ids.shape[0]):
            state, text, broken = self._rows[b]
            ids = input_ids[b, self._prompt_len:].tolist()
            full = self._decode(ids)
            if not broken and full != text:
                if full.startswith(text):
                    broken = not state.feed(full[len(text):])
                else:  # the decoder rewrote earlier text (rare, e.g. byte fallback): re-read from the start
                    state = self._start()
                    broken = not (state.feed(self.prefix) and state.feed(full))
            self._rows[b] = (state, full, broken)
            pick = None if broken or state.done else self._best(state, ids, full, scores[b])
            if pick is None:
                for e in self.eos_ids or [int(scores[b].argmax())]:
                    out[b, e] = 0.0
            else:
                out[b, pick] = scores[b, pick]
        return out

    def _fits(self, state: JSONPrefix, ids: list[int], full: str, tok: int) -> bool:
        text = self._decode(ids + [tok])
        if not text.startswith(full) or len(text) == len(full):
            return False  # special / empty tokens, or a rewrite: not progress
        return state.copy().feed(text[len(full):])

    def _best(self, state: JSONPrefix, ids: list[int], full: str, row: Any) -> Optional[int]:
        import torch

        k_tried = 0
        for k in (self.top_k, self.wide_k):
            k = min(k, row.shape[-1])
            for tok in torch.topk(row, k).indices.tolist()[k_tried:]:
                if tok not in self.eos_ids and bool(torch.isfinite(row[tok])) and self._fits(state, ids, full, tok):
                    return tok
            k_tried = k
        # last resort: the whole vocabulary, best first, pre-filtered on each token's own text
        table = self._token_texts(row.shape[-1])
        for tok in torch.argsort(row, descending=True).tolist()[k_tried:]:
            t = table[tok]
            if not t or tok in self.eos_ids or not bool(torch.isfinite(row[tok])):
                continue
            if (state.copy().feed(t) or state.copy().feed(t.lstrip())) and self._fits(state, ids, full, tok):
                return tok
        return None

    def _token_texts(self, n: int) -> list[str]:
        """Each token's own text, computed once per tokenizer (kept on the tokenizer object)."""
        table = getattr(self.tokenizer, "_robocorrect_token_texts", None)
        if table is None or len(table) != n:
            table = [self.tokenizer.decode([i], skip_special_tokens=True) for i in range(n)]
            try:
                self.tokenizer._robocorrect_token_texts = table
            except AttributeError:
                pass
        return table
