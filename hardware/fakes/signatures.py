"""Check calls made to a vendor-SDK fake against the REAL installed SDK's signatures.

The vendor SDKs are pybind11 extensions, whose methods carry no ``inspect.signature``; their docstrings start
with one signature per overload (``name(self: T, a: float, b: int = 1) -> bool``). :func:`signatures` parses
those (or uses ``inspect.signature`` for plain Python), and :func:`assert_binds` asserts that a call
``(args, kwargs)`` binds to at least one overload, so an adapter cannot call what the SDK does not have.
"""
from __future__ import annotations

import functools
import inspect
import re
from typing import Any, Optional

_NO_DEFAULT = inspect.Parameter.empty


def _split_top(s: str) -> list[str]:
    """Split at commas outside brackets and quotes."""
    out, depth, cur, quote = [], 0, [], ""
    for ch in s:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def _has_top_level_eq(s: str) -> bool:
    depth = 0
    for ch in s:
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "=" and depth == 0:
            return True
    return False


def _params_of(text: str) -> list[inspect.Parameter]:
    params = []
    for part in _split_top(text):
        if part in ("*", "/"):
            continue
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        if part.startswith("**"):
            kind, part = inspect.Parameter.VAR_KEYWORD, part[2:]
        elif part.startswith("*"):
            kind, part = inspect.Parameter.VAR_POSITIONAL, part[1:]
        name = re.match(r"\s*(\w+)", part).group(1)  # type: ignore[union-attr]
        if kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and (name == "self" or re.fullmatch(r"arg\d+", name)):
            kind = inspect.Parameter.POSITIONAL_ONLY  # pybind11's unnamed parameters cannot be passed by keyword
        has_default = _has_top_level_eq(part)
        params.append(inspect.Parameter(name, kind, default=None if has_default else _NO_DEFAULT))
    return params


@functools.lru_cache(maxsize=None)
def _cached(obj: Any, name: str) -> tuple[inspect.Signature, ...]:
    return tuple(_signatures(obj, name))


def signatures(obj: Any, name: str) -> list[inspect.Signature]:
    """Every overload of ``obj.name`` (self included as the first parameter for methods); cached per class."""
    try:
        return list(_cached(obj, name))
    except TypeError:  # an unhashable object
        return _signatures(obj, name)


def _signatures(obj: Any, name: str) -> list[inspect.Signature]:
    fn = getattr(obj, name)
    try:
        return [inspect.signature(fn)]
    except (TypeError, ValueError):
        pass
    doc = fn.__doc__ or ""
    sigs = []
    for m in re.finditer(rf"(?m)^(?:\d+\. )?{re.escape(name)}\((.*)\)(?: -> .*)?$", doc):
        sigs.append(inspect.Signature(_params_of(m.group(1))))
    sigs = [g for g in sigs if str(g) != "(*args, **kwargs)"] or sigs  # pybind11's overload dispatcher line
    if not sigs:
        raise AssertionError(f"no signature found for {obj!r}.{name}")
    return sigs


def bind_error(obj: Any, name: str, args: tuple, kwargs: dict, method: bool = True) -> Optional[str]:
    """None when ``obj.name(*args, **kwargs)`` binds to one of the real overloads (``method``: prepend self),
    else why not (the SDK has no such member, or no overload takes these arguments)."""
    if not hasattr(obj, name):
        return f"the real SDK has no {getattr(obj, '__name__', obj)}.{name}"
    errors = []
    for sig in signatures(obj, name):
        try:
            sig.bind(*((None,) if method and "self" in sig.parameters else ()), *args, **kwargs)
            return None
        except TypeError as e:
            errors.append(f"{sig}: {e}")
    return f"{name}{args!r}{kwargs!r} binds to no real signature:\n" + "\n".join(errors)


def assert_binds(obj: Any, name: str, args: tuple, kwargs: dict, method: bool = True) -> None:
    """``obj.name(*args, **kwargs)`` binds to one of the real overloads (``method``: prepend self)."""
    err = bind_error(obj, name, args, kwargs, method)
    assert err is None, err


def assert_fake_matches(fake: type, real: type) -> None:
    """Every public method of ``fake`` exists on ``real`` with the same parameter names, in the same order
    (for one of the overloads); the fake's own inspection helpers, listed in ``fake.TEST_HELPERS``, excepted."""
    helpers = getattr(fake, "TEST_HELPERS", ())
    for name, fn in vars(fake).items():
        if name.startswith("_") or not callable(fn) or name in helpers:
            continue
        assert hasattr(real, name), f"{real.__name__} has no {name}"
        mine = [p for p in inspect.signature(fn).parameters if p not in ("self",)]
        theirs = [[p for p in s.parameters if p != "self"] for s in signatures(real, name)]
        assert any(t[:len(mine)] == mine or (all(x.startswith("arg") for x in t) and len(t) >= len(mine)) for t in theirs), \
            f"{fake.__name__}.{name}{mine} does not follow {real.__name__}.{name}: {theirs}"
