"""``robocorrect episodes list|show ID|export OUT_DIR``: read the episode log and export it as a dataset.

``--log DIR`` picks the log folder (default ``$ROBOCORRECT_HOME/episodes`` or ``~/.robocorrect/episodes``);
it is accepted before or after the action, like ``kb --kb``. Opening the log marks episodes whose process died
mid-episode as aborted (see :mod:`memory.episodes`). These commands only read the log: a missing log is an
error, never created. Errors are ``hardware.errors.RobocorrectError`` s, which the CLI prints as one
``error: ...`` line (exit 1; exit 2 for a bad command line).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def _log_arg(p: argparse.ArgumentParser, top: bool) -> None:
    p.add_argument("--log", metavar="DIR", default=None if top else argparse.SUPPRESS,
                   help="episode log folder (default: $ROBOCORRECT_HOME/episodes or ~/.robocorrect/episodes)")


def configure(parser: argparse.ArgumentParser) -> None:
    _log_arg(parser, True)
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    p = sub.add_parser("list", help="one line per episode: id, status, steps, corrections, task")
    _log_arg(p, False)
    p.add_argument("--status", choices=("running", "success", "failure", "aborted"), default=None)
    p.add_argument("--limit", type=int, default=None, help="only the latest N")
    p.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    p = sub.add_parser("show", help="one episode: plans, steps, corrections, frames")
    p.add_argument("id", help="episode id, a unique prefix of one, or -1 for the latest")
    p.add_argument("--json", action="store_true", help="the full record as JSON")
    _log_arg(p, False)
    p = sub.add_parser("export", help="write a LeRobot-v3.0-style dataset (parquet + meta/info.json)")
    p.add_argument("out_dir")
    p.add_argument("--ids", nargs="*", default=None, help="only these episodes (default: all that ended)")
    p.add_argument("--fps", type=int, default=1, help="nominal fps recorded in info.json (steps are skill calls)")
    _log_arg(p, False)


def _when(t: float | None) -> str:
    return "-" if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def _fmt_plan(plan: list[dict[str, Any]]) -> str:
    from skills.schema import describe_call

    return "\n".join(f"    {i}. {describe_call(c)}" for i, c in enumerate(plan)) or "    (empty)"


def run(args: argparse.Namespace) -> int:
    from hardware.errors import UsageError
    from memory.episodes import EpisodeLog

    action = getattr(args, "action", None)
    if action is None:
        raise UsageError("say what to do: robocorrect episodes [--log DIR] list | show ID | export OUT_DIR")
    log = EpisodeLog(args.log, create=False)
    try:
        if log.repaired:
            print(f"marked {len(log.repaired)} unfinished episode(s) as aborted: {', '.join(log.repaired)}", file=sys.stderr)
        if action == "list":
            rows = log.list(limit=args.limit, status=args.status)
            if args.json:
                for r in rows:
                    print(json.dumps(r))
                return 0
            if not rows:
                print(f"no episodes in {log.root}")
                return 0
            print(f"{'id':<24} {'status':<8} {'steps':>5} {'corr':>4}  {'started':<19}  task")
            for r in rows:
                print(f"{r['id']:<24} {r['status']:<8} {r['steps']:>5} {r['corrections']:>4}  {_when(r['started']):<19}  {r['task']}")
            return 0
        if action == "show":
            rec = log.load(log.resolve(args.id))
            if args.json:
                print(json.dumps(rec, indent=1))
                return 0
            dur = f"{rec['ended'] - rec['started']:.1f} s" if rec["ended"] else "unfinished"
            print(f"episode {rec['id']}  [{rec['status']}]  policy {rec['policy']}  {_when(rec['started'])}  ({dur})")
            print(f"task: {rec['task']}")
            objs = (rec.get("scene") or {}).get("objects", [])
            print("scene: " + ", ".join(o["name"] for o in objs))
            for k in rec["knowledge_used"]:
                print(f"knowledge #{k.get('id')}: {k.get('text')}")
            print("initial plan:\n" + _fmt_plan(rec["initial_plan"]))
            events = ([(s["t"], "step", s) for s in rec["steps"]] + [(c["t"], "corr", c) for c in rec["corrections"]]
                      + [(u["t"], "said", u) for u in rec.get("utterances", [])])
            for _t, kind, e in sorted(events, key=lambda x: x[0]):
                if kind == "step":
                    o = e["outcome"]
                    res = "ok" if o.get("success") else "stopped" if o.get("stopped") else f"FAILED {o.get('failure')}"
                    print(f"  step {e['index']} {e['call']['skill']}: {res}" + (f" — {o['message']}" if o.get("message") else ""))
                elif kind == "corr":
                    tag = " (during motion)" if e.get("during_motion") else ""
                    print(f"  user: {e['utterance']!r}{tag} → {e['level']}: {'; '.join(e['changes']) or 'no change'}")
                else:
                    tag = " (during motion)" if e.get("during_motion") else ""
                    reply = f"robot asked: {e['question']}" if e.get("question") else e.get("action") or "no change"
                    print(f"  user: {e['utterance']!r}{tag} → {reply}")
            print("final plan:\n" + _fmt_plan(rec["final_plan"]))
            for f in rec["frames"]:
                print(f"frame: {log.media_path(f)}")
            return 0
        if action == "export":
            info = log.export(args.out_dir, episode_ids=args.ids, fps=args.fps)
            print(f"exported {info['total_episodes']} episodes, {info['total_frames']} steps, {info['total_tasks']} tasks to {args.out_dir}")
            return 0
    finally:
        log.close()
    return 2
