"""``robocorrect policy list|use|rollback``: the policy registry by hand (:mod:`agent.learn.registry`).

    robocorrect policy list               # registered checkpoints, the active one, every promotion
    robocorrect policy use r003           # make r003 (or 'shipped') active
    robocorrect policy rollback           # undo the last promotion or use
"""
from __future__ import annotations

import argparse
import json
import time


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--registry", metavar="DIR", help="policy registry folder (default $ROBOCORRECT_HOME/policies)")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="registered policies, the active one and the history")
    ls.add_argument("--json", action="store_true")
    use = sub.add_parser("use", help="make a registered policy (or 'shipped') active")
    use.add_argument("name")
    sub.add_parser("rollback", help="undo the last promotion or use")


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def run(args: argparse.Namespace) -> int:
    from .registry import SHIPPED, Registry

    reg = Registry(args.registry)
    if args.action == "use":
        reg.use(args.name)
        print(f"active policy: {args.name} ({reg.active_checkpoint()})")
        return 0
    if args.action == "rollback":
        name = reg.rollback()
        print(f"rolled back; active policy: {name} ({reg.active_checkpoint()})")
        return 0
    d = reg.load()
    if getattr(args, "json", False):
        print(json.dumps({**d, "active": reg.active()}))
        return 0
    active = reg.active()
    print(f"{'*' if active == SHIPPED else ' '} {SHIPPED:8s} {reg.path_of(SHIPPED)}")
    for name, e in d["policies"].items():
        g = e.get("gate") or {}
        gate = (f"held-out {g.get('heldout_active')} -> {g.get('heldout_candidate')}, flips {g.get('flip_rate')}"
                + (f", dev {g.get('dev_candidate')}" if g.get("dev_candidate") is not None else "")) if g else ""
        print(f"{'*' if active == name else ' '} {name:8s} {_when(e['created'])}  base {e.get('base', '?')}  {gate}  {e['path']}")
    if d["history"]:
        print("history:")
        for h in d["history"]:
            print(f"  {_when(h['t'])}  {h['action']:8s} {h['from']} -> {h['to']}  {h.get('note', '')}")
    return 0
