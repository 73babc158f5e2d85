"""Quirk kinds, one class per file; importing this package registers every kind in it (see ``base``)."""
from __future__ import annotations

import importlib
import pkgutil

from sim.quirk_kinds.base import KINDS, QuirkKind, Violation, call_args, get_kind, kind_names, register, unregister

for _m in pkgutil.iter_modules(__path__):
    if _m.name != "base" and not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")

__all__ = ["KINDS", "QuirkKind", "Violation", "call_args", "get_kind", "kind_names", "register", "unregister"]
