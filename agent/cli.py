"""The ``robocorrect`` command. Each subcommand lives in its own module with two functions,
``configure(parser)`` and ``run(args) -> int``; modules are imported lazily and keep heavy imports
(torch, pybullet, faiss) inside ``run`` so ``robocorrect --help`` is instant.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from hardware.errors import RobocorrectError, UsageError

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("agent.demo", "run a scripted teaching session headless, end to end, and save what the camera saw"),
    "sim": ("agent.repl", "interactive teaching session in the simulator (type tasks and corrections)"),
    "plan": ("agent.evaluate", "answer task-to-plan cases (JSON Lines) with a policy"),
    "ground": ("agent.evaluate", "answer grounding cases (JSON Lines, shared/spec/corrections.md) with a policy"),
    "train": ("agent.train", "generate the corpus and train the embedded grounding policy"),
    "episodes": ("memory.episodes_cli", "list, show and export logged episodes"),
    "kb": ("memory.kb_cli", "list, show, search, forget, export and import knowledge"),
    "retrain": ("agent.learn.retrain", "finetune the policy on logged episodes; promote it only through the gate"),
    "policy": ("agent.learn.policy_cli", "list, use and roll back trained policies (the policy registry)"),
    "robot": ("agent.robot_cli", "a real arm from a robot config file: check (moves nothing) or run a teaching episode"),
    "serve": ("agent.web.serve_cli", "teach from a browser: camera, plan, change log, typed or spoken corrections, stop"),
}
BENCHES: dict[str, tuple[str, str]] = {
    "skills": ("agent.bench.skills", "default pick-and-place on random scenes: success rate and real-time factor"),
    "memory": ("agent.bench.memory", "knowledge-base retrieval latency and recall at scale"),
    "teach": ("agent.bench.teach", "simulated user teaches over rounds, memory on and off"),
    "control": ("agent.bench.control", "control-loop tick periods in real time while the policy grounds corrections"),
    "speech": ("agent.bench.speech", "spoken corrections and the stop word on an espeak-ng + sox corpus: WER, grounding, stop recall and latency"),
    "train": ("agent.bench.train", "finetuning throughput of the embedded policy, data loading included"),
    "retrain": ("agent.bench.retrain", "the learning loop measured: teach with an idiolect, retrain, new utterances, teach again"),
    "perception": ("agent.bench.perception", "camera calibration and block/bowl perception against simulator ground truth"),
    "web": ("agent.web.bench", "frame latency (sim step to pixels in a headless Chromium) and frame rate of robocorrect serve"),
}


def _add(sub: argparse._SubParsersAction, name: str, module: str, help_: str) -> None:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        return  # that part of robocorrect is not installed
    p = sub.add_parser(name, help=help_, description=help_)
    configure = getattr(mod, f"configure_{name}", None) or mod.configure
    configure(p)
    p.set_defaults(_run=getattr(mod, f"run_{name}", None) or mod.run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="robocorrect", description="Teach a robot arm by talking to it.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_) in COMMANDS.items():
        _add(sub, name, module, help_)
    bench = sub.add_parser("bench", help="benchmarks that print their figures", description="benchmarks that print their figures")
    bsub = bench.add_subparsers(dest="bench", metavar="BENCH")
    for name, (module, help_) in BENCHES.items():
        _add(bsub, name, module, help_)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Errors robocorrect raises on purpose (:class:`hardware.errors.RobocorrectError`)
    print one ``error: ...`` line on stderr and exit 2 for usage (:class:`hardware.errors.UsageError`),
    1 otherwise; argparse's own usage errors exit 2 too. Anything else is a bug and keeps its traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return 2
    try:
        return int(run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except RobocorrectError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2 if isinstance(e, UsageError) else 1


if __name__ == "__main__":
    sys.exit(main())
