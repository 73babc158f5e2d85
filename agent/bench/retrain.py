"""``robocorrect bench retrain``: the whole learning loop, measured (issue 14's "Must show").

    robocorrect bench retrain --phrases sim/phrases/sailor.json --json

1. **teach**: a simulated user speaking the phrase bank (an idiolect the shipped policy misgrounds) teaches
   ``--rounds`` x ``--tasks`` tasks with memory off; every episode is logged. The house's rules (``--kinds``) are the
   teaching benchmark's plus ``square_pref`` (a container the user wants blocks put in squared up), so that the
   user turns blocks as well as moving them: the new utterances of step 3 hold rotations, and a log without any
   teaches nothing about them.
2. **retrain**: ``robocorrect retrain`` on that log (fresh registry under OUT): hindsight labels, finetune,
   gate, promotion.
3. **new utterances**: grounding cases made from the same phrase bank with fresh ASR-like slips and fresh
   scenes, keeping only utterances whose text never occurs in the log nor in the candidate's training sentences; accuracy of the shipped and the
   retrained checkpoint (offset, yaw, speed/force/height and retarget checks as in ``shared/spec/corrections.md``).
4. **teach again**: new memory-off runs with the shipped and with the retrained checkpoint, measured two ways:
   ``same_house``: the same user in the same house (the logged seed's hidden rules), new tasks (the rounds after the
   logged ones, never the logged tasks): what the learned plan arguments (``agent.learn.plan_args``) and the
   user's words both help with; ``other_house``: another seed (other hidden rules, new tasks): only better
   understanding of the user's words helps there. Each with corrections per task, success, misapplied corrections,
   and the learned plan arguments that fired (``policy_args``) and those out of scope (an argument no hidden rule
   of that step's objects calls for; ``agent.bench.teach_metrics``).
5. **dev**: the gate's check of the dev set (``shared/eval/grounding_dev.jsonl``, when present).
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any, Optional


OFF_RANGE = {"small": (0.003, 0.025), "medium": (0.008, 0.065), "large": (0.035, 0.21)}
YAW_RANGE = {"small": (0.03, 0.36), "medium": (0.1, 0.8), "large": (0.5, 1.6)}
AXIS = {"x": 0, "y": 1, "z": 2}
EXTRA_KINDS = ("square_pref",)  # in play here beyond the teaching benchmark's default kinds


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--phrases", default="sim/phrases/sailor.json", help="the user's phrase bank (default sim/phrases/sailor.json)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--tasks", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--kinds", default=None, help="quirk kinds in play (default: the teaching benchmark's and "
                   + ",".join(EXTRA_KINDS) + ")")
    p.add_argument("--word-noise", type=float, default=0.08, help="ASR-like per-word slips of the user")
    p.add_argument("--cases", type=int, default=300, help="new-utterance grounding cases")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lexicon", type=int, default=300, help="generated sentences per direction word of the user's own")
    p.add_argument("--frames", type=int, default=60, help="generated sentences per logged phrasing of the user's own")
    p.add_argument("--replay-ground", type=int, default=3000)
    p.add_argument("--replay-plan", type=int, default=600)
    p.add_argument("--out", metavar="DIR", help="results folder (default: a fresh temp dir)")
    p.add_argument("--json", action="store_true")


def idiolect_cases(bank_path: str, n: int, seed: int, noise: float, exclude: set[str]) -> list[dict[str, Any]]:
    """Grounding cases {scene, task, plan, step, utterance, expect} from a phrase bank, utterances not in ``exclude``."""
    from agent.grounder.corpus import _base
    from agent.grounder.apply import pair_indices
    from sim.user import PhraseBank, add_word_noise

    bank = PhraseBank.load(bank_path).data
    rng = random.Random(f"idiolect-{seed}")
    keys: list[tuple[str, ...]] = []
    for d, mags in bank.get("offset", {}).items():
        keys += [("offset", d, m) for m in mags]
    for d, mags in bank.get("yaw", {}).items():
        keys += [("yaw", d, m) for m in mags]
    for h in ("speed", "force", "height"):
        keys += [(h, k) for k in bank.get(h, {})]
    keys += [("retarget_object",)]
    out: list[dict[str, Any]] = []
    tries = 0
    while len(out) < n and tries < n * 50:
        tries += 1
        key = rng.choice(keys)
        ex = _base(rng)
        plan, step = ex["plan"], ex["step"]
        pk, _ = pair_indices(plan, step)
        if key[0] == "offset":
            text = rng.choice(bank["offset"][key[1]][key[2]])
            lo, hi = OFF_RANGE[key[2]]
            sign = 1 if key[1][0] == "+" else -1
            expect = [{"step": step, "arg": "offset", "axis": key[1][1], "delta": [lo, hi] if sign > 0 else [-hi, -lo]}]
        elif key[0] == "yaw":
            text = rng.choice(bank["yaw"][key[1]][key[2]])
            lo, hi = YAW_RANGE[key[2]]
            expect = [{"step": step, "arg": "yaw", "delta": [lo, hi] if key[1] == "+" else [-hi, -lo]}]
        elif key[0] in ("speed", "force", "height"):
            text = rng.choice(bank[key[0]][key[1]])
            up = key[1] in ("faster", "more")
            expect = [{"step": pk if key[0] == "force" else step, "arg": key[0], "ratio": [1.03, 3.5] if up else [0.05, 0.97]}]
        else:
            objs = ex["scene"]["objects"]
            cands = [o for o in objs if o["kind"] == "block" and o["name"] != plan[pk]["args"]["object"]]
            if not cands:
                continue
            new = rng.choice(cands)
            text = rng.choice(bank["retarget_object"]).format(object=new["name"].replace("_", " "))
            expect = [{"step": pk, "arg": "object", "equals": new["name"]}]
        text = add_word_noise(text, noise, rng) if noise > 0 else text
        if text.lower() in exclude:
            continue
        out.append({"id": f"i{len(out):04d}", "scene": ex["scene"], "task": ex["task"], "plan": plan, "step": step, "history": [],
                    "utterance": text, "expect": expect, "key": list(key)})
    return out


def check(case: dict[str, Any], plan: Optional[list[dict[str, Any]]]) -> bool:
    """Does the answered plan pass every check of the case? (The first check of each kind; other args unchecked.)"""
    if not isinstance(plan, list) or len(plan) != len(case["plan"]):
        return False
    defaults = {"offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "force": 20.0, "height": 0.1}

    def arg(p: list[dict[str, Any]], i: int, name: str) -> Any:
        v = (p[i].get("args") or {}).get(name)
        return defaults.get(name) if v is None else v

    for c in case["expect"]:
        i, a = c["step"], c["arg"]
        if "equals" in c:
            if arg(plan, i, a) != c["equals"]:
                return False
        elif "axis" in c:
            d = float(arg(plan, i, a)[AXIS[c["axis"]]]) - float(arg(case["plan"], i, a)[AXIS[c["axis"]]])
            if not c["delta"][0] <= d <= c["delta"][1]:
                return False
        elif "delta" in c:
            d = float(arg(plan, i, a)) - float(arg(case["plan"], i, a))
            if not c["delta"][0] <= d <= c["delta"][1]:
                return False
        elif "ratio" in c:
            r = float(arg(plan, i, a)) / float(arg(case["plan"], i, a))
            if not c["ratio"][0] <= r <= c["ratio"][1]:
                return False
    return True


def answers(checkpoint: str, cases: list[dict[str, Any]]) -> list[bool]:
    """Per case: does ``checkpoint``'s full policy answer it right (:func:`check`)?"""
    from agent.grounder.policy import EmbeddedPolicy

    pol = EmbeddedPolicy(checkpoint)
    oks = []
    for c in cases:
        try:
            g = pol.ground(c["scene"], c["task"], c["plan"], c["step"], [], [], c["utterance"])
            oks.append(check(c, g.plan if g.level in ("skill", "plan") else None))
        except Exception:  # a policy error is a wrong answer here
            oks.append(False)
    return oks


def accuracy(checkpoint: str, cases: list[dict[str, Any]]) -> float:
    oks = answers(checkpoint, cases)
    return sum(oks) / max(1, len(oks))


def case_kind(case: dict[str, Any]) -> tuple[str, str]:
    """What a new-utterance case asks for, without its size: ("offset", "+y"), ("yaw", "-"), ("force", "up"), ..."""
    key = case["key"]
    if key[0] in ("offset", "yaw"):
        return key[0], key[1]
    if key[0] in ("speed", "force", "height"):
        return key[0], "up" if key[1] in ("faster", "more") else "down"
    return key[0], ""


def said_kinds(results_path: Path) -> set[tuple[str, str]]:
    """The kinds of correction (:func:`case_kind`'s form) the simulated user said in a teach run's results."""
    out: set[tuple[str, str]] = set()
    d = json.loads(results_path.read_text())
    for seeds in d.get("tasks", {}).values():
        for tasks in seeds.values():
            for t in tasks:
                for u in t.get("utterances", []):
                    it, ax, sg = u.get("intent"), u.get("axis"), u.get("sign") or 0
                    if it == "offset" and ax:
                        out.add(("offset", f"{'+' if sg > 0 else '-'}{ax}"))
                    elif it == "yaw":
                        out.add(("yaw", "+" if sg > 0 else "-"))
                    elif it in ("speed", "force", "height") and sg:
                        out.add((it, "up" if sg > 0 else "down"))
                    elif it == "retarget_object":
                        out.add(("retarget_object", ""))
    return out


def label_check(examples_path: Path, results_path: Path) -> dict[str, int]:
    """How many hindsight labels of the logged run name the direction the simulated user meant (its utterances'
    intents, known to the benchmark only; never read by the learning): offsets by axis and sign, speed / force /
    height by sign. Utterances without one direction (vague ones, praise, "the other way") are not checked."""
    said: dict[tuple[str, str, int], dict[str, Any]] = {}
    for tasks in json.loads(results_path.read_text())["tasks"]["memory_off"].values():
        for t in tasks:
            for u in t["utterances"]:
                said[(t["episode_id"], u["text"], u["step"])] = u
    n = right = 0
    for line in examples_path.read_text().splitlines():
        ex = json.loads(line)
        u = said.get((ex.get("episode"), ex.get("utterance"), ex.get("step")))
        if ex.get("kind") != "ground" or u is None or u["intent"] not in ("offset", "speed", "force", "height") or not u["sign"]:
            continue
        lab = ex["labels"]
        head = u["axis"] if u["intent"] == "offset" else u["intent"]
        moved = {h: v[0] for h, v in lab.items() if h in ("x", "y", "z", "yaw", "speed", "force", "height") and v != "none"}
        n += 1
        right += int(moved == {head: "+" if u["sign"] > 0 else "-"})
    return {"checked": n, "right": right}


def teach(args: argparse.Namespace, out: Path, name: str, seed: int, checkpoint: Optional[str], first_round: int = 1) -> dict[str, Any]:
    """One memory-off teaching run of ``args.rounds`` x ``args.tasks`` tasks from round ``first_round`` on."""
    from agent.bench.teach import TeachBenchConfig, run_teach_bench

    cfg = TeachBenchConfig(rounds=args.rounds, tasks=args.tasks, seed=seed, first_round=first_round, phrases=args.phrases, memory="off",
                           kinds=kinds_of(args),
                           policy_args={"checkpoint": checkpoint} if checkpoint else {}, out=str(out / name),
                           log=str(out / f"{name}-log"), word_noise=args.word_noise)
    r = run_teach_bench(cfg, say=lambda s: None)
    rounds = r["memory_off"]["rounds"]
    n = sum(x["tasks"] for x in rounds) if all("tasks" in x for x in rounds) else args.rounds * args.tasks
    cpt = sum(x["corrections_per_task"] * (x.get("tasks") or args.tasks) for x in rounds) / max(1, n)
    mis = [x.get("misapplied_corrections") for x in rounds]
    checked = sum(x.get("checked_corrections", 0) for x in rounds)
    return {"seed": seed, "rounds": [first_round + i for i in range(len(rounds))],
            "corrections_per_task": round(cpt, 3), "success_rate": round(sum(x["success_rate"] for x in rounds) / len(rounds), 3),
            "misapplied": mis, "misapplied_all": round(sum(x.get("misapplied_count", 0) for x in rounds) / checked, 4) if checked else 0.0,
            "out_of_scope_tasks": int(sum(x.get("out_of_scope", 0) for x in rounds)), "tasks": int(n),
            "policy_args": int(sum(x.get("policy_args", 0) for x in rounds)),
            "policy_args_out_of_scope": int(sum(x.get("policy_args_out_of_scope", 0) for x in rounds)),
            "log": r["log"], "wall_s": r["wall_s"]}


def kinds_of(args: argparse.Namespace) -> tuple[str, ...]:
    """The quirk kinds in play: ``--kinds`` (comma-separated), else the teaching benchmark's default ones and
    :data:`EXTRA_KINDS`."""
    from sim.tasks import QUIRK_KINDS

    if getattr(args, "kinds", None):
        return tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    return tuple(QUIRK_KINDS) + tuple(k for k in EXTRA_KINDS if k not in QUIRK_KINDS)


def check_args(args: argparse.Namespace) -> None:
    """Raise :class:`hardware.errors.UsageError` (or the phrase bank's error) for a bad ``--kinds`` or ``--phrases``
    before anything is written."""
    from hardware.errors import UsageError
    from sim.phrases import PhraseBank
    from sim.quirk_kinds import kind_names

    unknown = [k for k in kinds_of(args) if k not in kind_names()]
    if unknown or not kinds_of(args):
        raise UsageError(f"unknown quirk kinds {unknown or [args.kinds]}; known: {', '.join(kind_names())}")
    PhraseBank.load(args.phrases)


def words_only(cand: str, out: Path) -> str:
    """A copy of the candidate checkpoint without its learned plan arguments: what better understanding of the
    user's words alone does."""
    import shutil

    from agent.learn.plan_args import FILE

    dst = out / "retrained-words-only"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(cand, dst, ignore=shutil.ignore_patterns(FILE, "features.pt", "heldout.pt", "tb", "*.jsonl"))
    return str(dst)


def teach_both(args: argparse.Namespace, out: Path, name: str, seed: int, cand: str, first_round: int,
               say: Any, words: Optional[str] = None) -> dict[str, Any]:
    """A new memory-off run with the shipped and with the retrained checkpoint (and, with ``words``, the retrained
    checkpoint without its learned plan arguments); the reduction in corrections per task."""
    a = teach(args, out, f"{name}-shipped", seed, None, first_round)
    b = teach(args, out, f"{name}-retrained", seed, cand, first_round)
    x, y = a["corrections_per_task"], b["corrections_per_task"]
    red = round(1 - y / x, 4) if x else None
    extra: dict[str, Any] = {}
    if words:
        w = teach(args, out, f"{name}-words-only", seed, words, first_round)
        extra = {"retrained_words_only": w,
                 "corrections_reduction_words_only": round(1 - w["corrections_per_task"] / x, 4) if x else None}
        say(f"   {name}: words only (no learned plan arguments) {w['corrections_per_task']:.2f} "
            f"({extra['corrections_reduction_words_only']:.0%} fewer than shipped)" if x else "")
    say(f"   {name} (seed {seed}, rounds {a['rounds']}): corrections/task shipped {x:.2f} -> retrained {y:.2f}"
        + (f" ({red:.0%} fewer)" if red is not None else "") + f"; success {a['success_rate']:.2f} -> {b['success_rate']:.2f}; "
        f"misapplied {a['misapplied_all']:.2f} -> {b['misapplied_all']:.2f}; learned arguments fired {b['policy_args']}, "
        f"out of scope {b['policy_args_out_of_scope']} (tasks with any out-of-scope change {a['out_of_scope_tasks']} -> {b['out_of_scope_tasks']})")
    return {"seed": seed, "rounds": a["rounds"], "shipped": a, "retrained": b, "corrections_reduction": red, **extra}


def run(args: argparse.Namespace) -> int:
    import tempfile

    from agent.learn.registry import Registry, shipped_checkpoint
    from agent.learn.retrain import RetrainConfig, retrain_once
    from memory.episodes import EpisodeLog

    check_args(args)
    t0 = time.time()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="robocorrect-retrain-"))
    out.mkdir(parents=True, exist_ok=True)
    say = lambda s: print(s, flush=True)  # noqa: E731
    res: dict[str, Any] = {"phrases": args.phrases, "out": str(out), "kinds": list(kinds_of(args))}
    say(f"1. teaching {args.rounds} x {args.tasks} tasks (memory off, shipped policy, phrases {args.phrases})")
    res["teach_before"] = teach(args, out, "teach-logged", args.seed, None)
    say(f"   {res['teach_before']}")
    log_dir = res["teach_before"]["log"]
    say("2. robocorrect retrain on that log")
    t1 = time.time()
    reg_dir = out / "policies"
    summary = retrain_once(RetrainConfig(logs=[log_dir], registry=str(reg_dir), epochs=args.epochs, lr=args.lr, lexicon=args.lexicon,
                                         frames=args.frames, replay_ground=args.replay_ground,
                                         replay_plan=args.replay_plan, all_episodes=True), log=say)
    res["retrain"] = {**summary, "wall_s": round(time.time() - t1, 1)}
    cand = str(Registry(reg_dir).path_of(summary["name"]))
    res["retrain"]["plan_args"] = summary.get("plan_args", {}).get("rules", [])
    res["retrain"]["labels_vs_user_intent"] = label_check(Path(cand) / "log_examples.jsonl", out / "teach-logged" / "teach_results.json")
    say(f"   hindsight labels that name the direction the user meant: {res['retrain']['labels_vs_user_intent']}")
    with EpisodeLog(log_dir, repair=False) as lg:
        said = {c["utterance"].lower() for s in lg.list() for c in lg.load(s["id"])["corrections"] + lg.load(s["id"])["utterances"]}
    for f in ("log_examples.jsonl", "lexicon_examples.jsonl"):  # nor any sentence the candidate was trained on
        rows = [json.loads(x) for x in (Path(cand) / f).read_text().splitlines() if x.strip()] if (Path(cand) / f).exists() else []
        said |= {r["utterance"].lower() for r in rows if r.get("utterance")}
    cases = idiolect_cases(args.phrases, args.cases, args.seed + 100, args.word_noise, said)
    ok_s, ok_r = answers(str(shipped_checkpoint()), cases), answers(cand, cases)
    res["new_utterances"] = {"n": len(cases), "shipped": round(sum(ok_s) / max(1, len(cases)), 4),
                             "retrained": round(sum(ok_r) / max(1, len(cases)), 4)}
    said_k = said_kinds(out / "teach-logged" / "teach_results.json")
    inside = [i for i, c in enumerate(cases) if case_kind(c) in said_k]
    res["new_utterances"]["kinds_said_in_log"] = {  # the corrections of kinds the user made while the log was written
        "kinds": sorted("".join(k) for k in said_k), "n": len(inside),
        "shipped": round(sum(ok_s[i] for i in inside) / max(1, len(inside)), 4),
        "retrained": round(sum(ok_r[i] for i in inside) / max(1, len(inside)), 4)}
    say(f"3. new utterances (n={len(cases)}, none in the log): shipped {res['new_utterances']['shipped']:.3f} -> retrained "
        f"{res['new_utterances']['retrained']:.3f}; of the kinds the user said in the log (n={len(inside)}): "
        f"{res['new_utterances']['kinds_said_in_log']['shipped']:.3f} -> {res['new_utterances']['kinds_said_in_log']['retrained']:.3f}")
    say("4. teaching again, new tasks (memory off): the same house, then another house")
    words = words_only(cand, out)
    res["same_house"] = teach_both(args, out, "teach-same-house", args.seed, cand, args.rounds + 1, say, words)
    res["other_house"] = teach_both(args, out, "teach-new", args.seed + 1, cand, 1, say, words)
    # the earlier report's keys (the other house)
    res["teach_after_shipped"], res["teach_after_retrained"] = res["other_house"]["shipped"], res["other_house"]["retrained"]
    res["corrections_reduction"] = res["other_house"]["corrections_reduction"]
    g = summary["gate"]
    res["dev"] = {"shipped": g.get("dev_active"), "retrained": g.get("dev_candidate")}
    say(f"5. dev set: shipped {g.get('dev_active')} -> retrained {g.get('dev_candidate')}; promoted: {summary['promoted']}")
    res["wall_s"] = round(time.time() - t0, 1)
    (out / "bench_retrain.json").write_text(json.dumps(res, indent=1))
    if args.json:
        print(json.dumps(res))
    return 0
