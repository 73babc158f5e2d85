"""``robocorrect bench teach``: a simulated user teaches the robot over rounds of tasks, memory off and on.

Each round is a list of tabletop tasks (``sim.tasks``: moves with referring expressions, stacks, "put all the X in
the Y", sorting by colour, at least a third control tasks) in fresh scenes whose objects carry hidden quirks by
hidden rules over attribute combinations. Each task is one episode of a real :class:`agent.session.TeachingSession`
on a PyBullet :class:`sim.world.SimWorld` with the chosen policy and, memory on, a real knowledge base.

The simulated user (``sim.user``, :class:`agent.bench.teach_users.ObservingChannel`) sees only what a person at
the table sees (``sim.observe.Observation``): it discovers physical quirks through what goes wrong and corrects
after, or while a motion heads for the wrong spot; placement preferences are its own wishes. Its words go from
precise to vague, with backwards directions taken back ("no, the other way"), restatements and praise; its
noise rates are on by default and echoed in the JSON. ``--oracle`` runs the old user instead, which reads the
hidden quirk params and speaks before a step can fail (``sim.oracle``), for comparison.

Scoring (``agent.bench.teach_metrics``): corrections per task, success (the goal holds in the world, wishes
included), intervention rate, first-attempt success, misapplied corrections (a grounded correction that changed
anything the user did not ask for, or moved the asked argument the wrong way), out-of-scope rate (tasks, of all
tasks, where knowledge changed an argument no hidden rule calls for there, at planning time or during the
episode) and wall time. ``--seeds 0-4`` runs every seed (its own rules, tasks and knowledge base) and reports the
mean and a 95 % interval per round. With ``--json`` the last line printed is one JSON object
(see :func:`run_teach_bench`).
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

from agent.bench.teach_metrics import (SUMMARY_KEYS, TaskResult, aggregate, correction_applied, knowledge_changes,
                                       out_of_scope, policy_changes, round_stats)
from agent.bench.teach_users import ObservingChannel, OracleChannel
from sim.observe import Observer, visible_scene
from sim.oracle import OracleConfig, OracleUser, landing_error
from sim.phrases import PhraseBank, PhraseBankError
from sim.quirk_kinds import kind_names
from sim.tasks import QUIRK_KINDS, Task, TaskGenerator
from sim.user import BESIDE_GAP, SimulatedUser, UserConfig, Wish, YawWish, spot_beside
from hardware import runtime

MEMORY_SETTINGS = ("on", "off", "both")
# How far (m) beyond a placement wish's tolerance a landed object may lie (the drop bounces).
LANDING_SLACK = 0.015
# How far (rad) beyond a yaw wish's tolerance a placed block may stand turned (it may twist as it lands).
YAW_SLACK = 0.05


def parse_seeds(text: str) -> tuple[int, ...]:
    """'0-4' -> (0, 1, 2, 3, 4); '0,3,7' -> (0, 3, 7); '5' -> (5,). Raises ValueError naming ``--seeds``."""
    out: list[int] = []
    try:
        for part in str(text).split(","):
            part = part.strip()
            if not part:
                continue
            if "-" in part[1:]:
                a, b = part.split("-", 1) if not part.startswith("-") else (part, part)
                lo, hi = int(a), int(b)
                if hi < lo:
                    raise ValueError
                out.extend(range(lo, hi + 1))
            else:
                out.append(int(part))
    except ValueError:
        raise ValueError(f"--seeds takes a range or a list, e.g. 0-4 or 0,3,7; got {text!r}") from None
    if not out:
        raise ValueError(f"--seeds names no seed: {text!r}")
    return tuple(dict.fromkeys(out))


@dataclass
class TeachBenchConfig:
    """Settings of one benchmark run.

    ``rounds`` × ``tasks`` episodes per memory setting and seed, rounds ``first_round`` on (a later first round gives
    new tasks in the same house: ``agent.bench.retrain``); ``memory``: 'on', 'off' or 'both'. ``seeds``: the
    seeds to run (each its own hidden rules, tasks and knowledge base); ``seed`` is used when ``seeds`` is empty.
    ``phrases``: phrase bank file (default ``sim/phrases/default.json``). ``policy``: name for
    ``agent.factory.make_policy``, ``policy_args`` its keyword arguments. ``out``: results folder (a fresh temp dir
    when None); ``log``: episode log folder (default OUT/episodes-<time>); ``kb``: knowledge base folder for memory on
    (one seed only; a fresh one per seed under ``out`` when None). ``oracle``: run the old user that reads the hidden
    params. User: ``patience``, ``wrong_direction_rate``, ``vague_rate``, ``word_noise``, ``number_rate``,
    ``praise_rate`` (probabilities; None takes the user's default: :class:`sim.user.UserConfig`, or
    :class:`sim.oracle.OracleConfig` with ``oracle``). ``kinds``: quirk kinds in play. ``frames``: save camera frames
    (slower). ``max_steps``: skill calls per episode. ``threads``: torch intra-op threads (1 is fastest on a shared CPU).
    """

    rounds: int = 3
    tasks: int = 30
    seed: int = 0
    first_round: int = 1
    seeds: tuple[int, ...] = ()
    phrases: Optional[str] = None
    memory: str = "both"
    policy: str = "embedded"
    policy_args: dict[str, Any] = field(default_factory=dict)
    out: Optional[str] = None
    log: Optional[str] = None
    kb: Optional[str] = None
    oracle: bool = False
    patience: int = 8
    wrong_direction_rate: Optional[float] = None
    vague_rate: Optional[float] = None
    word_noise: Optional[float] = None
    number_rate: Optional[float] = None
    praise_rate: Optional[float] = None
    kinds: tuple[str, ...] = QUIRK_KINDS
    frames: bool = False
    max_steps: int = 30
    threads: int = 1
    verbose: bool = False

    def __post_init__(self) -> None:
        if self.memory not in MEMORY_SETTINGS:
            raise ValueError(f"--memory must be one of {', '.join(MEMORY_SETTINGS)}, got {self.memory!r}")
        if self.rounds < 1 or self.tasks < 1 or self.first_round < 1:
            raise ValueError(f"need at least 1 round and 1 task from round 1 on, got rounds={self.rounds}, tasks={self.tasks}, "
                             f"first round {self.first_round}")
        unknown = [k for k in self.kinds if k not in kind_names()]
        if unknown:
            raise ValueError(f"unknown quirk kinds {unknown}; known: {', '.join(kind_names())}")
        self.seeds = tuple(self.seeds) or (self.seed,)
        if self.kb and len(self.seeds) > 1:
            raise ValueError("--kb names one knowledge base folder; use it with one seed")
        self.user_config(0)  # validates the rates

    def user_config(self, seed: int) -> UserConfig | OracleConfig:
        """The simulated user's settings for one task (``seed``), defaults filled in."""
        given = {k: getattr(self, k) for k in ("wrong_direction_rate", "word_noise", "number_rate") if getattr(self, k) is not None}
        if self.oracle:
            return OracleConfig(patience=self.patience, seed=seed, **given)
        extra = {k: getattr(self, k) for k in ("vague_rate", "praise_rate") if getattr(self, k) is not None}
        return UserConfig(patience=self.patience, seed=seed, **given, **extra)


# ----------------------------------------------------------------------------------------------
# One task, one round, one run
# ----------------------------------------------------------------------------------------------
def goal_holds(world: Any, task: Task, slack: Optional[float] = None) -> bool:
    """Ground truth: every goal object is in (or on) its target, and where the user wants it (wishes within their
    tolerance plus ``slack`` m for the drop's bounce, :data:`LANDING_SLACK` by default; turned as wished within the
    wish's tolerance plus :data:`YAW_SLACK` rad)."""
    slack = LANDING_SLACK if slack is None else slack
    wishes = {c: (off, tol) for c, off, tol in task.wishes()}
    yaw_wishes = {c: YawWish(c, yaw, tol + YAW_SLACK) for c, yaw, tol in task.yaw_wishes()}
    for obj, tgt in task.goal:
        ok = False
        for fn in (world.is_in, world.is_on):
            try:
                ok = ok or bool(fn(obj, tgt))
            except Exception:  # noqa: BLE001 - e.g. is_in on a block
                pass
        if not ok:
            return False
        if tgt in wishes and not _at_wished_spot(world, task, obj, tgt, wishes[tgt], slack):
            return False
        if tgt in yaw_wishes and abs(yaw_wishes[tgt].error(world.pose(obj)[1])) > yaw_wishes[tgt].tol:
            return False
    return True


def _at_wished_spot(world: Any, task: Task, obj: str, tgt: str, wish: tuple[Any, float], slack: float) -> bool:
    """Whether ``obj`` rests at the user's wished spot in ``tgt`` (within tolerance plus ``slack``), or, when another
    goal object already rests at that spot, beside it where the user then wants it (``sim.user.spot_beside``: two
    blocks cannot take one spot; the user asks for the next one beside the first, and so does this check)."""
    want, tol = list(wish[0]), wish[1] + slack
    err = landing_error(world, obj, tgt, want)
    if err is None:
        return False
    if math.hypot(*err) <= tol:
        return True
    size = {o.name: float(o.size) for o in task.scene.objects}
    for other, t2 in task.goal:
        if other == obj or t2 != tgt:
            continue
        e2 = landing_error(world, other, tgt, want)
        if e2 is None or math.hypot(*e2) > tol:
            continue
        occ = (want[0] - e2[0], want[1] - e2[1])
        spot = spot_beside((want[0], want[1]), occ, size.get(other, 0.04) / 2 + size.get(obj, 0.04) / 2 + BESIDE_GAP)
        e = landing_error(world, obj, tgt, list(spot))
        if e is not None and math.hypot(*e) <= tol:
            return True
    return False


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
    seed: int = 0

    def tag_episode(self, event: Any) -> None:
        """Session listener: note the benchmark's view of the task in its episode (round, recipe, control), once."""
        s, task = self.session, self.current
        if event.kind != "plan" or task is None or self.log is None or not getattr(s, "episode_id", None):
            return
        self.log.log(s.episode_id, "note", {"bench": "teach", "task_id": task.id, "round": task.round,
                                            "recipe": task.recipe, "control": task.control, "kinds": task.kinds,
                                            "goal": [list(g) for g in task.goal], "memory": self.memory})
        self.current = None


def make_user(ctx: Context, task: Task, scene: Any, seed: int) -> ObservingChannel | OracleChannel:
    """The user of one task on its channel: the observing user (it is given the visible scene, its goal and its own
    wishes, and observations built from the world), or the oracle with ``--oracle``."""
    ucfg = ctx.config.user_config(seed)
    if isinstance(ucfg, OracleConfig):
        return OracleChannel(OracleUser(scene, task.goal, ctx.bank, ucfg), task, LANDING_SLACK)
    wishes = [Wish(c, off, tol) for c, off, tol in task.wishes()]
    yaw_wishes = [YawWish(c, yaw, tol) for c, yaw, tol in task.yaw_wishes()]
    user = SimulatedUser(visible_scene(scene), task.goal, wishes, ctx.bank, ucfg, yaw_wishes=yaw_wishes)
    return ObservingChannel(user, Observer(ctx.session.world, scene))


def run_task(ctx: Context, task: Task) -> TaskResult:
    """One episode: the session plans, the simulated user watches and corrects, the knowledge base learns."""
    t0 = time.perf_counter()
    seed = random.Random(f"{ctx.seed}-{task.id}").randrange(2**31)
    scene = copy.deepcopy(task.scene)
    session = ctx.session
    uc = make_user(ctx, task, scene, seed)
    ctx.current = task
    failure: Optional[str] = None
    try:
        summary = session.run_episode(task.text, uc.channel, scene=scene,
                                      episode_id=f"{time.strftime('%Y%m%d-%H%M%S')}-s{ctx.seed}-{'mem' if ctx.memory else 'nomem'}-{task.id}-{seed % 10**6:06d}")
        failure = summary.reason if not summary.success else None
    except Exception as e:  # noqa: BLE001 - a crash is a failed task, reported, not a dead benchmark
        failure = f"{type(e).__name__}: {e}"
        if session.started and not session.finished:
            session.finish(None, reason=failure, status="aborted")
    user = uc.user
    success = (not user.gave_up) and bool(session.success) and goal_holds(session.world, task)
    results = list(session.corrections)
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
                     "magnitude": u.magnitude, "applied": ok, "after_outcome": u.after_outcome, "restated": u.restated,
                     "wrong_direction": u.wrong_direction, "reason": u.reason,
                     "changes": getattr(r, "changes", None), "question": getattr(r, "question", None)})
    oos: list[str] = []
    learned = policy_changes(session.base_plan) if session.base_plan else []  # a checkpoint's learned plan arguments
    if learned or (ctx.memory and session.base_plan):
        made = learned + (knowledge_changes(session.base_plan, session.initial_plan, results) if ctx.memory else [])
        oos = out_of_scope(made, task.allowed_for_step)
    eid = session.episode_id
    if ctx.memory and success and ctx.kb is not None and ctx.log is not None and eid:
        ctx.kb.ingest(ctx.log.load(eid))  # idempotent: the session has usually ingested it already
    res = TaskResult(
        id=task.id, round=task.round, recipe=task.recipe, text=task.text, control=task.control, success=success,
        corrections=user.n_corrections, first_attempt_success=success and user.n_corrections == 0,
        misapplied=misapplied, checked=checked, out_of_scope=oos, gave_up=user.gave_up,
        wall_s=round(time.perf_counter() - t0, 3), episode_id=eid, knowledge_used=len(session.knowledge or []),
        policy_args=[f"step {j} {p[j]['skill']}.{a}" for _w, p, j, a in learned],
        failure=None if success else (failure or ("user gave up" if user.gave_up else "goal not reached")),
        after_outcome=sum(1 for u in user.corrections if u.after_outcome), utterances=utts,
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
                world: Any, log: Any, kb_dir: Optional[Path], say: Callable[[str], None], seed: int = 0) -> dict[str, Any]:
    """All rounds of one seed with memory on or off; returns {"rounds": [per-round figures], "tasks": [...]}."""
    from agent.session import SessionConfig, TeachingSession

    kb = _make_kb(kb_dir) if memory and kb_dir is not None else None
    session = TeachingSession.for_sim(world, policy, kb=kb, log=log,
                                      config=SessionConfig(frames=cfg.frames, max_steps=cfg.max_steps, confirm_wait_s=0.0,
                                                           idle_timeout_s=0.0))
    label = f"seed {seed} memory {'on' if memory else 'off'}"

    def on_task(r: TaskResult) -> None:
        if cfg.verbose:
            mark = "ok " if r.success else "FAIL"
            extra = f" out-of-scope: {', '.join(r.out_of_scope)}" if r.out_of_scope else ""
            why = f" ({r.failure})" if r.failure else ""
            say(f"  [{label}] {r.id} {mark} {r.corrections} corr, {r.wall_s:.1f}s  {r.text}{why}{extra}")
            for u in r.utterances:
                say(f"      user: {u['text']!r} ({u['intent']} step {u['step']}{', after' if u['after_outcome'] else ''}) "
                    f"-> {u['changes'] or u['question'] or '-'}{'' if u['applied'] is not False else '  [misapplied]'}")

    ctx = Context(session=session, bank=bank, config=cfg, memory=memory, kb=kb, log=log, on_task=on_task, seed=seed)
    session.subscribe(ctx.tag_episode)
    out_rounds, out_tasks = [], []
    for r_no, tasks in enumerate(rounds, 1):
        r_no = tasks[0].round if tasks else r_no
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
            except Exception:  # noqa: BLE001 - a knowledge base without a size
                continue
    return {"rounds": out_rounds, "tasks": out_tasks, "knowledge_entries": n_kb}


def format_round(s: dict[str, Any]) -> str:
    ci = s.get("ci95", {})

    def f(k: str, nd: int = 2) -> str:
        return f"{s[k]:.{nd}f}" + (f"±{ci[k]:.{nd}f}" if k in ci else "")

    return (f"corrections/task {f('corrections_per_task')}, success {f('success_rate')}, "
            f"intervention {f('intervention_rate')}, first-attempt {f('first_attempt_success')}, "
            f"misapplied {f('misapplied_corrections')} ({s['misapplied_count']:g}/{s['checked_corrections']:g}), "
            f"out-of-scope {f('out_of_scope_rate')} ({s['out_of_scope']:g}/{s['tasks']:g} tasks, "
            f"{s['out_of_scope_control']:g} control), wall {s['wall_s']:.1f}s")


def comparison_table(off: list[dict[str, Any]], on: list[dict[str, Any]]) -> str:
    """Rows: figures; columns: round r memory off / on (mean ± 95 % interval when there are several seeds)."""
    heads = ["figure"] + [f"r{s['round']} off" for s in off] + [f"r{s['round']} on" for s in on]
    rows = [heads]

    def cell(s: dict[str, Any], k: str) -> str:
        nd = 1 if k == "wall_s" else 2
        ci = s.get("ci95", {}).get(k)
        return f"{s[k]:.{nd}f}" + (f"±{ci:.{nd}f}" if ci else "")

    for k in SUMMARY_KEYS:
        rows.append([k] + [cell(s, k) for s in off] + [cell(s, k) for s in on])
    widths = [max(len(r[i]) for r in rows) for i in range(len(heads))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)


def run_teach_bench(cfg: TeachBenchConfig, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the benchmark; returns the result object printed with ``--json``:

    ``{"rounds": [...], "memory_on": {"rounds": [...], "per_seed": [...]}, "memory_off": {...}, "seeds": [...],
    "config": {...}, "rules": {seed: rules}, "out": DIR, "log": DIR, "wall_s": s}``; ``rounds`` is memory on's when it
    ran, else memory off's. Each round: ``round, corrections_per_task, success_rate, intervention_rate,
    first_attempt_success, misapplied_corrections, out_of_scope_rate, wall_s`` (means over seeds) plus counts,
    ``ci95`` (95 % interval half-width of each of those over seeds; 0 with one seed) and ``per_seed``.
    """
    t_all = time.perf_counter()
    if cfg.threads:
        # one intra-op thread: on a shared, busy CPU, torch's spinning thread pool makes each MiniLM call ~40x slower
        runtime.set_threads(cfg.threads)
    bank = PhraseBank.load(cfg.phrases)
    out = Path(cfg.out) if cfg.out else Path(tempfile.mkdtemp(prefix="robocorrect-teach-"))
    out.mkdir(parents=True, exist_ok=True)
    log_dir = Path(cfg.log) if cfg.log else out / f"episodes-{time.strftime('%Y%m%d-%H%M%S')}"
    from hardware.scene import Scene
    from memory.episodes import EpisodeLog
    from sim.world import SimWorld

    policy = _make_policy(cfg.policy, **cfg.policy_args)
    log = EpisodeLog(log_dir)
    world = SimWorld(Scene(objects=[]))
    settings = {"on": [True], "off": [False], "both": [False, True]}[cfg.memory]
    per: dict[str, list[dict[str, Any]]] = {"memory_off": [], "memory_on": []}
    rules: dict[str, Any] = {}
    try:
        for seed in cfg.seeds:
            gen = TaskGenerator(seed, kinds=cfg.kinds)
            rules[str(seed)] = gen.rules.to_dict()
            rounds = [gen.round(r, cfg.tasks) for r in range(cfg.first_round, cfg.first_round + cfg.rounds)]
            for mem in settings:
                kb_dir = None
                if mem:
                    kb_dir = Path(cfg.kb) if cfg.kb else Path(tempfile.mkdtemp(prefix=f"kb-s{seed}-", dir=out))
                r = run_setting(mem, rounds, cfg, bank, policy, world, log, kb_dir, say, seed)
                per["memory_on" if mem else "memory_off"].append({"seed": seed, **r, **({"kb": str(kb_dir)} if kb_dir else {})})
    finally:
        world.close()
        log.close()
    result: dict[str, Any] = {}
    tasks_out: dict[str, Any] = {}
    for key, runs in per.items():
        if not runs:
            continue
        result[key] = {"rounds": aggregate([r["rounds"] for r in runs]),
                       "knowledge_entries": [r["knowledge_entries"] for r in runs] if key == "memory_on" else None,
                       "per_seed": [{"seed": r["seed"], "rounds": r["rounds"]} for r in runs]}
        tasks_out[key] = {str(r["seed"]): r["tasks"] for r in runs}
    result["rounds"] = (result.get("memory_on") or result["memory_off"])["rounds"]
    result["seeds"] = list(cfg.seeds)
    cfg_d = asdict(cfg)
    cfg_d["kinds"] = list(cfg.kinds)
    cfg_d["seeds"] = list(cfg.seeds)
    cfg_d["phrases"] = bank.source
    cfg_d["user"] = asdict(cfg.user_config(0))
    cfg_d["user"].pop("seed", None)
    cfg_d["user_kind"] = "oracle (reads hidden params)" if cfg.oracle else "observing (sees only sim.observe.Observation)"
    result["config"] = cfg_d
    result["rules"] = rules
    result["out"], result["log"] = str(out), str(log_dir)
    result["wall_s"] = round(time.perf_counter() - t_all, 2)
    (out / "teach_results.json").write_text(json.dumps({**result, "tasks": tasks_out}, indent=1, default=str))
    return result


# ----------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------
def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=3, help="rounds of tasks (default 3)")
    parser.add_argument("--tasks", type=int, default=30, help="tasks per round (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the hidden rules and scenes (default 0)")
    parser.add_argument("--first-round", type=int, default=1, help="number of the first round (new tasks, same hidden rules; default 1)")
    parser.add_argument("--seeds", metavar="RANGE", help="several seeds, e.g. 0-4 or 0,3,7: mean and 95%% interval per round")
    parser.add_argument("--phrases", metavar="FILE", help="phrase bank of the simulated user (default sim/phrases/default.json)")
    parser.add_argument("--memory", choices=MEMORY_SETTINGS, default="both", help="knowledge base off, on, or both runs (default both)")
    parser.add_argument("--oracle", action="store_true", help="the old user that reads the hidden quirk params and speaks before a step fails")
    from agent.factory import add_policy_arguments

    add_policy_arguments(parser)
    parser.add_argument("--out", metavar="DIR", help="results folder (default: a fresh temp dir)")
    parser.add_argument("--log", metavar="DIR", help="episode log folder (default OUT/episodes-<time>)")
    parser.add_argument("--kb", metavar="DIR", help="knowledge base folder for memory on, one seed (default: a fresh one under OUT)")
    parser.add_argument("--patience", type=int, default=8, help="corrections per task before the user gives up (default 8)")
    parser.add_argument("--wrong-direction-rate", type=float, help="probability the user names the opposite direction (default 0.1; oracle 0)")
    parser.add_argument("--vague-rate", type=float, help="probability the user only says something is wrong after a failure (default 0.25)")
    parser.add_argument("--word-noise", type=float, help="per-word ASR-style noise rate of the user's words (default 0.05; oracle 0)")
    parser.add_argument("--number-rate", type=float, help="probability of saying a number ('3 cm') when the bank has them (default 0.25)")
    parser.add_argument("--praise-rate", type=float, help="probability of praise after a corrected step works (default 0.5)")
    parser.add_argument("--kinds", default=",".join(QUIRK_KINDS), help=f"quirk kinds in play (default {','.join(QUIRK_KINDS)})")
    parser.add_argument("--frames", action="store_true", help="save camera frames in the episode log (slower)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1; 0 = torch's default)")
    parser.add_argument("--verbose", "-v", action="store_true", help="print every task and utterance")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object on the last line")


def config_from_args(args: argparse.Namespace) -> TeachBenchConfig:
    from agent.factory import parse_policy_args

    return TeachBenchConfig(
        rounds=args.rounds, tasks=args.tasks, seed=args.seed, first_round=args.first_round, seeds=parse_seeds(args.seeds) if args.seeds else (),
        phrases=args.phrases, memory=args.memory, policy=args.policy, policy_args=parse_policy_args(args.policy_arg, args.policy),
        out=args.out, log=args.log, kb=args.kb, oracle=args.oracle, patience=args.patience,
        wrong_direction_rate=args.wrong_direction_rate, vague_rate=args.vague_rate, word_noise=args.word_noise,
        number_rate=args.number_rate, praise_rate=args.praise_rate,
        kinds=tuple(k.strip() for k in args.kinds.split(",") if k.strip()), frames=args.frames, threads=args.threads,
        verbose=args.verbose,
    )


def run(args: argparse.Namespace) -> int:
    from agent.policy import PolicyError

    try:
        cfg = config_from_args(args)
        PhraseBank.load(cfg.phrases)
    except (ValueError, PhraseBankError, PolicyError) as e:
        print(f"robocorrect bench teach: {e}", file=sys.stderr)
        return 2
    say = (lambda s: print(s, flush=True))
    say(f"teaching benchmark: {cfg.rounds} rounds x {cfg.tasks} tasks, seeds {','.join(map(str, cfg.seeds))}, memory {cfg.memory}, "
        f"policy {cfg.policy}, phrases {cfg.phrases or 'default'}, user {'oracle' if cfg.oracle else 'observing'}")
    try:
        res = run_teach_bench(cfg, say)
    except PolicyError as e:
        print(f"robocorrect bench teach: {e}", file=sys.stderr)
        return 2
    if "memory_off" in res and "memory_on" in res:
        say("\nmemory off vs on, per round" + (" (mean ± 95% interval over seeds)" if len(cfg.seeds) > 1 else "") + ":")
        say(comparison_table(res["memory_off"]["rounds"], res["memory_on"]["rounds"]))
    say(f"\nepisodes: {res['log']}  results: {res['out']}/teach_results.json  total wall {res['wall_s']:.1f}s")
    if args.json:
        print(json.dumps(res, default=str), flush=True)
    return 0
