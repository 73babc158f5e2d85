"""``robocorrect bench teach``: a simulated user teaches the robot over rounds of tasks, memory off and on.

Each round is a list of pick-and-place tasks (``sim.tasks``) in fresh scenes whose objects carry hidden quirks
(``hardware.scene.Quirk``). Each task is one episode of a real :class:`agent.session.TeachingSession` on a PyBullet
:class:`sim.world.SimWorld` with the chosen policy; the simulated user (``sim.user``) speaks through the
session's channel:

- **while a step starts to move** (control ticks of the running step, before anything can go wrong), when the
  step's arguments break a requirement the user knows: one correction per tick, grounded against the running
  step, applied to the rest of the motion (or the step is redone when the correction changes its object);
- **after a step**: about a failure (the session redoes the step with the new arguments), or praise once when
  a corrected step then worked;
- **when the plan is done**: if the object is not where the user wants it, a correction (the session redoes the
  pick and place); after ``patience`` corrections the user gives up.

Memory on: a fresh :class:`memory.kb.KnowledgeBase` per run (a new folder under OUT unless ``--kb``); every successful
episode is ingested right after it ends, so later tasks of the same round already profit. Every episode goes to
the episode log (``--log``, default ``OUT/episodes``), so the run feeds retraining.

Per round it prints corrections per task, success rate, intervention rate (tasks with ≥ 1 correction),
first-attempt success (no correction at all), misapplied corrections (fraction of corrections after which the
plan did not move the way the user asked), knowledge applied out of scope (fraction of control tasks where
knowledge changed a step argument no quirk asks for) and wall time, then a memory off / on table. With
``--json`` the last line printed is one JSON object (see :func:`run_teach_bench`).
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from sim.tasks import QUIRK_KINDS, Task, TaskGenerator
from agent.bench.teach_metrics import TaskResult, correction_applied, out_of_scope_changes, round_stats
from sim.user import PhraseBank, SimulatedUser, Utterance, UserConfig

MEMORY_SETTINGS = ("on", "off", "both")
# How far (m) beyond a placement preference's tolerance a landed object may lie (the drop bounces); the user
# accepts exactly what the success check accepts.
LANDING_SLACK = 0.015
SUMMARY_KEYS = ("corrections_per_task", "success_rate", "intervention_rate", "first_attempt_success",
                "misapplied_corrections", "out_of_scope_rate", "wall_s")


@dataclass
class TeachBenchConfig:
    """Settings of one benchmark run.

    ``rounds`` × ``tasks`` episodes per memory setting; ``memory``: 'on', 'off' or 'both'. ``phrases``: phrase
    bank file (default ``sim/phrases/default.json``). ``policy``: name for ``agent.factory.make_policy``, ``policy_args`` its keyword arguments (e.g. ``checkpoint``).
    ``out``: folder for results (a fresh temp dir when None); ``log``: episode log folder (default OUT/episodes);
    ``kb``: knowledge base folder for memory on (a fresh one under ``out`` when None). User options: ``patience``,
    ``wrong_direction_rate``, ``word_noise``, ``number_rate``. ``kinds``: quirk kinds in play. ``frames``:
    save camera frames in the episode log (slower). ``max_steps``: skill calls per episode. ``threads``: torch
    intra-op threads (1 is fastest on a shared CPU; 0 leaves torch's default).
    """

    rounds: int = 3
    tasks: int = 20
    seed: int = 0
    phrases: Optional[str] = None
    memory: str = "both"
    policy: str = "embedded"
    policy_args: dict[str, Any] = field(default_factory=dict)
    out: Optional[str] = None
    log: Optional[str] = None
    kb: Optional[str] = None
    patience: int = 8
    wrong_direction_rate: float = 0.0
    word_noise: float = 0.0
    number_rate: float = 0.25
    kinds: tuple[str, ...] = QUIRK_KINDS
    frames: bool = False
    max_steps: int = 24
    threads: int = 1
    verbose: bool = False

    def __post_init__(self) -> None:
        if self.memory not in MEMORY_SETTINGS:
            raise ValueError(f"--memory must be one of {', '.join(MEMORY_SETTINGS)}, got {self.memory!r}")
        if self.rounds < 1 or self.tasks < 1:
            raise ValueError(f"need at least 1 round and 1 task, got rounds={self.rounds}, tasks={self.tasks}")
        unknown = [k for k in self.kinds if k not in QUIRK_KINDS]
        if unknown:
            raise ValueError(f"unknown quirk kinds {unknown}; known: {', '.join(QUIRK_KINDS)}")
        UserConfig(patience=self.patience, wrong_direction_rate=self.wrong_direction_rate, word_noise=self.word_noise,
                   number_rate=self.number_rate)


# ----------------------------------------------------------------------------------------------
# The user on the session's channel
# ----------------------------------------------------------------------------------------------
def landing_error(world: Any, obj: str, target: str, want: list[float]) -> Optional[tuple[float, float]]:
    """(wanted - actual) xy of ``obj`` relative to ``target``'s centre (m, base frame), or None if unknown."""
    try:
        (ox, oy, _), _ = world.pose(obj)
        (tx, ty, _), _ = world.pose(target)
    except Exception:  # noqa: BLE001 - an object the world does not know
        return None
    return want[0] - (ox - tx), want[1] - (oy - ty)


class UserChannel:
    """Adapter from the session's polls (``agent.channel.PollContext``) to a :class:`sim.user.SimulatedUser`.

    Built on ``agent.channel.CallbackChannel``; see the module docstring for when the user speaks. Every
    utterance is recorded with the index of the session's correction result it produced, for scoring.
    """

    def __init__(self, user: SimulatedUser, task: Task, landing_slack: Optional[float] = None) -> None:
        from agent.channel import CallbackChannel

        self.user = user
        self.task = task
        self.landing_slack = LANDING_SLACK if landing_slack is None else landing_slack
        self.records: list[tuple[Utterance, int]] = []  # (utterance, index in session.corrections)
        self.said_give_up = False
        self._answered: Any = None
        self.channel = CallbackChannel(self._speak, source="sim_user")

    def _emit(self, u: Optional[Utterance], ctx: Any) -> Optional[str]:
        if u is None:
            if self.user.gave_up and not self.said_give_up and ctx.phase != "moving":
                self.said_give_up = True
                return "give up"
            return None
        n = len(getattr(ctx.session, "corrections", []))
        self.records.append((u, n))
        return u.text

    def _speak(self, ctx: Any) -> Optional[str]:
        plan = list(ctx.plan)
        if self.user.gave_up:
            return self._emit(None, ctx)
        if ctx.phase == "moving":
            if 0 <= ctx.step < len(plan):
                return self._emit(self.user.before_step(plan, ctx.step), ctx)
            return None
        if ctx.phase == "before_step" and ctx.step == 0 and getattr(ctx.session, "steps_run", 1) == 0:
            # nothing has run yet: a correction now is grounded against step 0 as well
            return self._emit(self.user.before_step(plan, 0), ctx)
        if ctx.phase == "after_step" and ctx.outcome is not None:
            # one reaction per outcome: a person says one thing, then watches the retry
            if ctx.outcome is self._answered:
                return None
            self._answered = ctx.outcome
            return self._emit(self.user.after_step(plan, ctx.step, ctx.outcome, getattr(ctx.session, "world", None)), ctx)
        if ctx.phase == "idle":
            session = ctx.session
            last = getattr(session, "last_outcome", None)
            if session is not None and getattr(session, "paused", False) and last is not None and not last.success:
                # the robot waits after a failure the last correction did not fix: say it again
                return self._emit(self.user.after_step(plan, session.last_step, last, session.world), ctx)
            return self._emit(self._check_landing(ctx), ctx)
        return None

    def _check_landing(self, ctx: Any) -> Optional[Utterance]:
        """When the plan is done: is each object where the user wants it in its container (placement preferences)?"""
        session, plan = ctx.session, list(ctx.plan)
        if session is None or getattr(session, "cursor", 0) < len(plan) or getattr(session, "paused", False):
            return None
        world = session.world
        for k, (obj, tgt) in enumerate(self.task.goal):
            pref = [q for q in self.task.scene.quirks_for(tgt) if q.kind == "placement_pref"] if tgt in self.task.scene.names else []
            if not pref:
                continue
            want = [float(v) for v in pref[0].params["offset"]][:2]
            err = landing_error(world, obj, tgt, want)
            if err is None or math.hypot(*err) <= float(pref[0].params.get("tol", 0.015)) + self.landing_slack:
                continue
            places = [i for i, c in enumerate(plan) if c["skill"] == "place"]
            if k >= len(places):
                continue
            from skills.base import Outcome

            landed = (want[0] - err[0], want[1] - err[1])  # relative to the target's centre, like Outcome.error_xy
            fake = Outcome("place", False, failure="missed_target", error_xy=landed)
            return self.user.after_step(plan, places[k], fake)
        return None


# ----------------------------------------------------------------------------------------------
# One task, one round, one run
# ----------------------------------------------------------------------------------------------
def goal_holds(world: Any, task: Task, slack: Optional[float] = None) -> bool:
    """Ground truth: every goal object is in its target, and where the user wants it (preferences within their
    tolerance plus ``slack`` m for the drop's bounce, :data:`LANDING_SLACK` by default)."""
    slack = LANDING_SLACK if slack is None else slack
    for obj, tgt in task.goal:
        ok = False
        for fn in ("is_in", "is_on"):
            f = getattr(world, fn, None)
            try:
                ok = ok or bool(f and f(obj, tgt))
            except Exception:  # noqa: BLE001
                pass
        if not ok:
            return False
        for q in task.scene.quirks_for(tgt) if tgt in task.scene.names else []:
            if q.kind == "placement_pref":
                err = landing_error(world, obj, tgt, [float(v) for v in q.params["offset"]][:2])
                if err is None or math.hypot(*err) > float(q.params.get("tol", 0.015)) + slack:
                    return False
    return True


@dataclass
class Context:
    """What one memory setting's run shares across its tasks."""

    session: Any
    bank: PhraseBank
    config: TeachBenchConfig
    memory: bool
    kb: Any = None
    log: Any = None
    on_task: Optional[Callable[[TaskResult], None]] = None
    current: Optional[Task] = None

    def tag_episode(self, event: Any) -> None:
        """Session listener: note the benchmark's view of the task in its episode (round, recipe, control), once."""
        s, task = self.session, self.current
        if event.kind != "plan" or task is None or self.log is None or not getattr(s, "episode_id", None):
            return
        self.log.log(s.episode_id, "note", {"bench": "teach", "task_id": task.id, "round": task.round,
                                            "recipe": task.recipe, "control": task.control, "kinds": task.kinds,
                                            "goal": [list(g) for g in task.goal], "memory": self.memory})
        self.current = None


def run_task(ctx: Context, task: Task) -> TaskResult:
    """One episode: the session plans, the simulated user watches and corrects, the knowledge base learns."""
    t0 = time.perf_counter()
    cfg = ctx.config
    seed = random.Random(f"{cfg.seed}-{task.id}").randrange(2**31)
    ucfg = UserConfig(patience=cfg.patience, wrong_direction_rate=cfg.wrong_direction_rate, word_noise=cfg.word_noise,
                      number_rate=cfg.number_rate, seed=seed)
    scene = copy.deepcopy(task.scene)
    user = SimulatedUser(scene, task.goal, ctx.bank, ucfg)
    uc = UserChannel(user, task)
    session = ctx.session
    ctx.current = task
    failure: Optional[str] = None
    try:
        summary = session.run_episode(task.text, uc.channel, scene=scene,
                                      episode_id=f"{time.strftime('%Y%m%d-%H%M%S')}-{'mem' if ctx.memory else 'nomem'}-{task.id}-{seed % 10**6:06d}")
        failure = summary.reason if not summary.success else None
    except Exception as e:  # noqa: BLE001 - a crash is a failed task, reported, not a dead benchmark
        failure = f"{type(e).__name__}: {e}"
        if getattr(session, "started", False) and not getattr(session, "finished", True):
            session.finish(None, reason=failure, status="aborted")
    world = session.world
    success = (not user.gave_up) and bool(getattr(session, "success", False)) and goal_holds(world, task)
    # score the corrections
    results = list(getattr(session, "corrections", []))
    misapplied = checked = 0
    utts = []
    for u, idx in uc.records:
        r = results[idx] if idx < len(results) else None
        ok = None
        if r is not None and u.counts:
            ok = correction_applied(r.before, r.after, u, r.level)
            checked += 1
            misapplied += 0 if ok else 1
        utts.append({"text": u.text, "intent": u.intent, "step": u.step, "axis": u.axis, "sign": u.sign,
                     "magnitude": u.magnitude, "applied": ok, "after_outcome": u.after_outcome,
                     "changes": getattr(r, "changes", None), "question": getattr(r, "question", None)})
    oos: list[str] = []
    if ctx.memory and getattr(session, "base_plan", None) is not None:
        oos = out_of_scope_changes(session.base_plan, session.initial_plan, task.allowed_args())
    eid = getattr(session, "episode_id", None)
    if ctx.memory and success and ctx.kb is not None and ctx.log is not None and eid:
        ctx.kb.ingest(ctx.log.load(eid))
    res = TaskResult(
        id=task.id, round=task.round, recipe=task.recipe, text=task.text, control=task.control, success=success,
        corrections=user.n_corrections, first_attempt_success=success and user.n_corrections == 0,
        misapplied=misapplied, checked=checked, out_of_scope=oos, gave_up=user.gave_up,
        wall_s=round(time.perf_counter() - t0, 3), episode_id=eid, knowledge_used=len(getattr(session, "knowledge", []) or []),
        failure=None if success else (failure or ("user gave up" if user.gave_up else "goal not reached")), utterances=utts,
    )
    if ctx.on_task:
        ctx.on_task(res)
    return res


def _make_policy(name: str, **kw: Any) -> Any:
    from agent.factory import make_policy

    return make_policy(name, **kw)


def _make_kb(folder: Path) -> Any:
    from memory.kb import KnowledgeBase

    return KnowledgeBase(folder)


def run_setting(memory: bool, rounds: list[list[Task]], cfg: TeachBenchConfig, bank: PhraseBank, policy: Any,
                world: Any, log: Any, kb_dir: Optional[Path], say: Callable[[str], None]) -> dict[str, Any]:
    """All rounds with memory on or off; returns {"rounds": [per-round figures], "tasks": [per-task results]}."""
    from agent.session import SessionConfig, TeachingSession

    kb = _make_kb(kb_dir) if memory and kb_dir is not None else None
    session = TeachingSession.for_sim(world, policy, kb=kb, log=log,
                                      config=SessionConfig(frames=cfg.frames, max_steps=cfg.max_steps, confirm_wait_s=0.0,
                                                           idle_timeout_s=0.0))
    label = "memory on" if memory else "memory off"

    def on_task(r: TaskResult) -> None:
        if cfg.verbose:
            mark = "ok " if r.success else "FAIL"
            extra = f" out-of-scope: {', '.join(r.out_of_scope)}" if r.out_of_scope else ""
            why = f" ({r.failure})" if r.failure else ""
            say(f"  [{label}] {r.id} {mark} {r.corrections} corr, {r.wall_s:.1f}s  {r.text}{why}{extra}")
            for u in r.utterances:
                say(f"      user: {u['text']!r} ({u['intent']} step {u['step']}) -> {u['changes'] or u['question'] or '-'}")

    ctx = Context(session=session, bank=bank, config=cfg, memory=memory, kb=kb, log=log, on_task=on_task)
    session.subscribe(ctx.tag_episode)
    out_rounds, out_tasks = [], []
    for r_no, tasks in enumerate(rounds, 1):
        t0 = time.perf_counter()
        res = [run_task(ctx, t) for t in tasks]
        stats = round_stats(res, r_no, time.perf_counter() - t0)
        out_rounds.append(stats)
        out_tasks.extend(r.to_dict() for r in res)
        say(f"[{label}] round {r_no}: {format_round(stats)}")
    n_kb = None
    if kb is not None:
        for attr in ("__len__", "count", "size"):
            try:
                n_kb = len(kb) if attr == "__len__" else getattr(kb, attr)()
                break
            except Exception:  # noqa: BLE001
                continue
    return {"rounds": out_rounds, "tasks": out_tasks, "knowledge_entries": n_kb}


def format_round(s: dict[str, Any]) -> str:
    return (f"corrections/task {s['corrections_per_task']:.2f}, success {s['success_rate']:.2f}, "
            f"intervention {s['intervention_rate']:.2f}, first-attempt {s['first_attempt_success']:.2f}, "
            f"misapplied {s['misapplied_corrections']:.2f} ({s['misapplied_count']}/{s['corrections']}), "
            f"out-of-scope {s['out_of_scope_rate']:.2f} ({s['out_of_scope']}/{s['control_tasks']} control), "
            f"wall {s['wall_s']:.1f}s")


def comparison_table(off: list[dict[str, Any]], on: list[dict[str, Any]]) -> str:
    """Rows: figures; columns: round r memory off / on."""
    heads = ["figure"] + [f"r{s['round']} off" for s in off] + [f"r{s['round']} on" for s in on]
    rows = [heads]
    for k in SUMMARY_KEYS:
        rows.append([k] + [f"{s[k]:.2f}" if k != "wall_s" else f"{s[k]:.1f}" for s in off] +
                    [f"{s[k]:.2f}" if k != "wall_s" else f"{s[k]:.1f}" for s in on])
    widths = [max(len(r[i]) for r in rows) for i in range(len(heads))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)


def run_teach_bench(cfg: TeachBenchConfig, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the benchmark; returns the result object printed with ``--json``:

    ``{"rounds": [...], "memory_on": {"rounds": [...]}, "memory_off": {"rounds": [...]}, "config": {...},
    "out": DIR, "log": DIR, "wall_s": s}``; ``rounds`` is memory on's when it ran, else memory off's. Each round:
    ``round, corrections_per_task, success_rate, intervention_rate, first_attempt_success,
    misapplied_corrections, out_of_scope_rate, wall_s`` plus counts.
    """
    t_all = time.perf_counter()
    if cfg.threads:
        # one intra-op thread: on a shared, busy CPU, torch's spinning thread pool makes each MiniLM call ~40x slower
        import torch

        torch.set_num_threads(cfg.threads)
    bank = PhraseBank.load(cfg.phrases)
    out = Path(cfg.out) if cfg.out else Path(tempfile.mkdtemp(prefix="robocorrect-teach-"))
    out.mkdir(parents=True, exist_ok=True)
    log_dir = Path(cfg.log) if cfg.log else out / f"episodes-{time.strftime('%Y%m%d-%H%M%S')}"
    from memory.episodes import EpisodeLog
    from hardware.scene import Scene
    from sim.world import SimWorld

    gen = TaskGenerator(cfg.seed, kinds=cfg.kinds)
    rounds = [gen.round(r, cfg.tasks) for r in range(1, cfg.rounds + 1)]
    policy = _make_policy(cfg.policy, **cfg.policy_args)
    log = EpisodeLog(log_dir)
    world = SimWorld(Scene(objects=[]))
    settings = {"on": [True], "off": [False], "both": [False, True]}[cfg.memory]
    result: dict[str, Any] = {}
    tasks_out: dict[str, Any] = {}
    try:
        for mem in settings:
            kb_dir = None
            if mem:
                kb_dir = Path(cfg.kb) if cfg.kb else Path(tempfile.mkdtemp(prefix="kb-", dir=out))
            r = run_setting(mem, rounds, cfg, bank, policy, world, log, kb_dir, say)
            key = "memory_on" if mem else "memory_off"
            result[key] = {"rounds": r["rounds"], "knowledge_entries": r["knowledge_entries"],
                           **({"kb": str(kb_dir)} if kb_dir else {})}
            tasks_out[key] = r["tasks"]
    finally:
        world.close()
        log.close()
    result["rounds"] = (result.get("memory_on") or result["memory_off"])["rounds"]
    cfg_d = asdict(cfg)
    cfg_d["kinds"] = list(cfg.kinds)
    cfg_d["phrases"] = bank.source
    result["config"] = cfg_d
    result["rules"] = asdict(gen.rules)
    result["out"], result["log"] = str(out), str(log_dir)
    result["wall_s"] = round(time.perf_counter() - t_all, 2)
    (out / "teach_results.json").write_text(json.dumps({**result, "tasks": tasks_out}, indent=1, default=str))
    return result


# ----------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------
def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=3, help="rounds of tasks (default 3)")
    parser.add_argument("--tasks", type=int, default=20, help="tasks per round (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the hidden rules and scenes (default 0)")
    parser.add_argument("--phrases", metavar="FILE", help="phrase bank of the simulated user (default sim/phrases/default.json)")
    parser.add_argument("--memory", choices=MEMORY_SETTINGS, default="both", help="knowledge base off, on, or both runs (default both)")
    parser.add_argument("--policy", default="embedded", help="policy name for agent.factory.make_policy (default embedded)")
    parser.add_argument("--policy-arg", action="append", metavar="KEY=VALUE", default=[],
                        help="keyword argument for the policy, e.g. checkpoint=/path (repeatable)")
    parser.add_argument("--out", metavar="DIR", help="results folder (default: a fresh temp dir)")
    parser.add_argument("--log", metavar="DIR", help="episode log folder (default OUT/episodes-<time>)")
    parser.add_argument("--kb", metavar="DIR", help="knowledge base folder for memory on (default: a fresh one under OUT)")
    parser.add_argument("--patience", type=int, default=8, help="corrections per task before the user gives up (default 8)")
    parser.add_argument("--wrong-direction-rate", type=float, default=0.0, help="probability the user names the opposite direction")
    parser.add_argument("--word-noise", type=float, default=0.0, help="per-word ASR-style noise rate of the user's words")
    parser.add_argument("--number-rate", type=float, default=0.25, help="probability of saying a number ('3 cm') when the bank has them")
    parser.add_argument("--kinds", default=",".join(QUIRK_KINDS), help=f"quirk kinds in play (default {','.join(QUIRK_KINDS)})")
    parser.add_argument("--frames", action="store_true", help="save camera frames in the episode log (slower)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1; 0 = torch's default)")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every task and utterance")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object on the last line")


def config_from_args(args: argparse.Namespace) -> TeachBenchConfig:
    from agent.factory import parse_policy_args

    return TeachBenchConfig(
        rounds=args.rounds, tasks=args.tasks, seed=args.seed, phrases=args.phrases, memory=args.memory, policy=args.policy,
        policy_args=parse_policy_args(args.policy_arg),
        out=args.out, log=args.log, kb=args.kb, patience=args.patience, wrong_direction_rate=args.wrong_direction_rate,
        word_noise=args.word_noise, number_rate=args.number_rate,
        kinds=tuple(k.strip() for k in args.kinds.split(",") if k.strip()), frames=args.frames, threads=args.threads,
        verbose=args.verbose,
    )


def run(args: argparse.Namespace) -> int:
    from agent.policy import PolicyError
    from sim.user import PhraseBankError

    try:
        cfg = config_from_args(args)
        bank_check = PhraseBank.load(cfg.phrases)
        del bank_check
    except (ValueError, PhraseBankError, PolicyError) as e:
        print(f"robocorrect bench teach: {e}", file=sys.stderr)
        return 2
    say = (lambda s: print(s, flush=True))
    say(f"teaching benchmark: {cfg.rounds} rounds x {cfg.tasks} tasks, memory {cfg.memory}, policy {cfg.policy}, "
        f"phrases {cfg.phrases or 'default'}, seed {cfg.seed}")
    try:
        res = run_teach_bench(cfg, say)
    except PolicyError as e:
        print(f"robocorrect bench teach: {e}", file=sys.stderr)
        return 2
    if "memory_off" in res and "memory_on" in res:
        say("\nmemory off vs on, per round:")
        say(comparison_table(res["memory_off"]["rounds"], res["memory_on"]["rounds"]))
    say(f"\nepisodes: {res['log']}  results: {res['out']}/teach_results.json  total wall {res['wall_s']:.1f}s")
    if args.json:
        print(json.dumps(res, default=str), flush=True)
    return 0
