"""``robocorrect kb list|show ID|search TEXT|forget ID|weaken ID|narrow ID|export FILE.jsonl|import FILE.jsonl|check``.

``show ID`` prints a lesson with its evidence (which corrections taught it, on which objects) and its competing
scope hypotheses with their evidence counts (``--json``: the entry as JSON, hypotheses included).

``--kb PATH`` picks the knowledge base directory (default ``$ROBOCORRECT_HOME/kb`` or ``~/.robocorrect/kb``).
Errors (a missing id, a corrupt import file, a knowledge base folder that is missing, a file or read-only)
are ``KBError`` s, which the CLI prints as one ``error: ...`` line (exit 1; exit 2 for a bad command line);
they change nothing. Read-only actions (list, show, search, export, check) never create a knowledge base.
"""
from __future__ import annotations

import argparse
import json
from typing import Any


def _kb_arg(p: argparse.ArgumentParser, top: bool) -> None:
    p.add_argument("--kb", metavar="PATH", default=None if top else argparse.SUPPRESS,
                   help="knowledge base directory (default $ROBOCORRECT_HOME/kb or ~/.robocorrect/kb)")
    p.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm" if top else argparse.SUPPRESS,
                   help="text embedder (default minilm; hashing only for a knowledge base built with it)")


def configure(parser: argparse.ArgumentParser) -> None:
    _kb_arg(parser, True)
    sub = parser.add_subparsers(dest="kb_command", metavar="ACTION")
    p = sub.add_parser("list", help="list entries")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--min-confidence", type=float, default=0.0)
    _kb_arg(p, False)
    p = sub.add_parser("show", help="show one entry: its evidence and scope hypotheses")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true", help="the entry as one JSON object")
    _kb_arg(p, False)
    p = sub.add_parser("narrow", help="narrow an entry back to the object it was last taught on")
    p.add_argument("id", type=int)
    _kb_arg(p, False)
    p = sub.add_parser("search", help="entries nearest in meaning to TEXT")
    p.add_argument("text", nargs="+")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--json", action="store_true")
    _kb_arg(p, False)
    p = sub.add_parser("forget", help="delete an entry")
    p.add_argument("id", type=int)
    _kb_arg(p, False)
    p = sub.add_parser("weaken", help="lower an entry's confidence (\"don't do that again\")")
    p.add_argument("id", type=int)
    p.add_argument("--factor", type=float, default=0.5)
    _kb_arg(p, False)
    p = sub.add_parser("export", help="write all entries as JSON Lines")
    p.add_argument("file")
    _kb_arg(p, False)
    p = sub.add_parser("import", help="add entries from a JSON Lines export (all or nothing)")
    p.add_argument("file")
    _kb_arg(p, False)
    p = sub.add_parser("check", help="verify the database and the indexes (rebuilding a damaged index)")
    _kb_arg(p, False)


def _fmt(e: dict[str, Any]) -> str:
    cond = ", ".join(f"{k}={v}" for k, v in e["conditions"].items())
    return f"#{e['id']:<4} {e['confidence']:.2f}  {e['scope']:<10} {e['text']}   [{cond}]"


def _show(e: Any) -> str:
    """A lesson in words: what it does, where, why (evidence), and the scope hypotheses it was chosen among."""
    from memory.knowledge import scope_words
    from memory.learning import hypotheses

    d = e.to_dict()
    st = d["stats"]
    lines = [f"#{d['id']} {d['text']}",
             f"  status {d['status']}, confidence {d['confidence']:.2f}, scope: {scope_words(d)} (basis {d['basis'] or '-'})",
             "  conditions: " + (", ".join(f"{k}={v}" for k, v in d["conditions"].items()) or "none"),
             f"  applied {st.get('applied', 0)}x, confirmed {st.get('confirmed', 0)}, contradicted {st.get('contradicted', 0)}; "
             f"sources: {', '.join(d['sources']) or 'none'}"]
    lines.append(f"  evidence ({len(d['evidence'])}):" if d["evidence"] else "  evidence: none recorded (written by hand or imported)")
    for ev in d["evidence"]:
        o = ev.get("object") or {}
        lines.append(f"    {ev.get('episode', '?')}: {o.get('name') or o.get('kind')} ({', '.join(f'{k} {o[k]}' for k in ('kind', 'color', 'size') if o.get(k))})"
                     f", said {ev.get('utterance')!r}, value {ev.get('value')}, {ev.get('problem', '?')}"
                     + (", unconfirmed" if ev.get("weak") else ""))
    if d["against"]:
        lines.append("  did fine without it, or corrected it back: " + "; ".join(
            " ".join(str(q[k]) for k in ("size", "color", "kind") if q.get(k)) or str(q.get("name")) for q in d["against"]))
    hyps = hypotheses(e)
    if hyps:
        lines.append("  scope hypotheses (taught inside / taught outside / against):")
        for h in hyps:
            lines.append(f"    {'*' if h['chosen'] else ' '} {h['words']:<24} {h['level']:<10} {h['taught']} / {h['outside']} / {h['against']}")
    return "\n".join(lines)


READ_ONLY = ("list", "show", "search", "export", "check")


def open_kb(where: Any, create: bool, embedder: Any = None) -> Any:
    """The ``memory.kb.KnowledgeBase`` at ``where`` (None: the default folder). ``create`` False (read-only
    commands): a missing one is a ``KBError``, never created; a folder that is a file or read-only is a
    ``KBError`` too, with one clear message."""
    import sqlite3
    from pathlib import Path

    from memory.folders import folder_problem
    from memory.kb import KBError, KnowledgeBase, default_kb_path

    path = Path(where) if where else default_kb_path()
    if path.suffix in (".sqlite", ".db") and not path.is_dir():
        path = path.parent
    problem = folder_problem(path, "knowledge base", "kb.sqlite", create=create)
    if problem:
        raise KBError(problem)
    try:
        return KnowledgeBase(path, embedder=embedder)
    except (OSError, sqlite3.Error) as e:
        raise KBError(f"cannot use the knowledge base at {path}: {e}") from None


def run(args: argparse.Namespace) -> int:
    from hardware.errors import UsageError

    action = getattr(args, "kb_command", None)
    if action is None:
        raise UsageError("say what to do: robocorrect kb {list,show,search,forget,weaken,narrow,export,import,check} [--kb PATH]")
    embedder = None
    if args.embedder == "hashing":
        from memory.embed import HashingEmbedder

        embedder = HashingEmbedder()
    import sqlite3

    from memory.kb import KBError

    try:
        with open_kb(args.kb, action not in READ_ONLY, embedder) as kb:
            if action == "list":
                entries = kb.list(min_confidence=args.min_confidence)
                for e in entries:
                    print(json.dumps(e.to_dict()) if args.json else _fmt(e.to_dict()))
                if not args.json:
                    print(f"{len(entries)} entries in {kb.path}")
            elif action == "show":
                e = kb.get(args.id)
                if args.json:
                    from memory.learning import hypotheses

                    print(json.dumps({**e.to_dict(), "hypotheses": hypotheses(e)}, indent=2))
                else:
                    print(_show(e))
            elif action == "narrow":
                e = kb.narrow(args.id)
                print(f"#{e.id} now applies to {e.text.split(':', 1)[0]}: {e.text}")
            elif action == "search":
                hits = kb.search(" ".join(args.text), k=args.k)
                for h in hits:
                    print(json.dumps(h) if args.json else f"{h['score']:.3f}  {_fmt(h)}")
                if not hits and not args.json:
                    print("no entries")
            elif action == "forget":
                e = kb.forget(args.id)
                print(f"forgot #{e.id}: {e.text}")
            elif action == "weaken":
                e = kb.weaken(args.id, args.factor)
                print(f"#{e.id} confidence now {e.confidence:.2f}: {e.text}")
            elif action == "export":
                n = kb.export(args.file)
                print(f"exported {n} entries to {args.file}")
            elif action == "import":
                ids = kb.import_file(args.file)
                print(f"imported {len(ids)} entries ({len(set(ids))} distinct after merging) from {args.file}")
            elif action == "check":
                print(json.dumps(kb.check()))
    except (OSError, sqlite3.Error) as e:  # e.g. the database file itself is read-only
        raise KBError(f"knowledge base: {type(e).__name__}: {e}") from None
    return 0
