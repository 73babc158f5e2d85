"""Tasks for the teaching benchmark: rounds of tabletop tasks in fresh scenes whose objects follow hidden rules.

**Hidden rules** (:class:`HouseRules`, drawn once per benchmark seed, the same in every round): each quirk kind in
play is tied to a *combination* of visible attributes, so that size, colour and kind are not confounded: e.g.
"small green blocks are bevelled", "medium yellow blocks are slippery", "large blue blocks are heavy", "the red bowl
has a pocket on its left", "the user wants things in the tray at its back-left". The order of the kinds, the
attribute combinations and the kinds' magnitudes (``QuirkKind.draw_magnitude``: bevel depth, pocket side,
preferred spot) are drawn per seed. Every object in every scene carries the quirks its attributes call for.

**Tasks** (:class:`TaskGenerator`): "put X in Y" with referring expressions (full name, colour only, size only,
"the leftmost block"), stacks ("stack X on Y"), "put all the red blocks in the Y", and sorting by colour; with
distractor blocks. At least :data:`CONTROL_SHARE` of each round are **control tasks**: no goal object or
target carries a quirk, while quirky objects stand beside them, and their goal blocks share one attribute with a
quirky combination (same colour, other size; same size, other colour; the colour of a quirky bowl).

On every task, knowledge that changes a step argument that no quirk of that step's object, carried object or
target calls for is out of scope (:meth:`Task.allowed_for_step`). Frames and units: metres, base frame
(``shared/spec/corrections.md``).

    gen = TaskGenerator(seed=0)
    for task in gen.round(1, 30):
        task.text, task.goal, task.scene, task.control
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from hardware.scene import BLOCK_SIZES, BOWL_DIAMETER, BOWL_HEIGHT, TRAY_HEIGHT, TRAY_SIZE, Scene, SceneError, SceneObject, object_name
from sim.quirk_kinds import get_kind, kind_names
from sim.quirk_kinds.base import BLOCK
from sim.quirks import add_quirk
from sim.scene import WORKSPACE_X, WORKSPACE_Y

QUIRK_KINDS = kind_names(default_only=True)
CONTROL_SHARE = 0.34  # fraction of each round's tasks that are control tasks (at least)
HAND_CLEARANCE = 0.05  # extra m between a block and a container: a low grasp next to a rim hits it with the hand
BLOCK_COLORS = ("red", "green", "blue", "yellow", "orange", "purple")
BOWL_COLORS = ("red", "green", "blue", "yellow", "orange", "purple")
SIZES = ("small", "medium", "large")
TASK_TYPES = (("move", 0.5), ("stack", 0.15), ("all", 0.2), ("sort", 0.15))


@dataclass(frozen=True)
class Rule:
    """One hidden rule: objects with all of ``attrs`` (``kind``: block / bowl / tray, ``color``, ``size``) carry quirk
    ``quirk`` with ``magnitude`` (the kind's drawn magnitudes)."""

    quirk: str
    attrs: tuple[tuple[str, str], ...]
    magnitude: tuple[tuple[str, Any], ...] = ()

    def matches(self, o: SceneObject) -> bool:
        look = {"kind": o.kind, "color": o.color, "size": _size(o)}
        return all(look.get(k) == v for k, v in self.attrs)

    def attr(self, key: str) -> Optional[str]:
        return dict(self.attrs).get(key)

    def words(self) -> str:
        a = dict(self.attrs)
        return " ".join(x for x in (a.get("size"), a.get("color"), a.get("kind")) if x)


def _size(o: SceneObject) -> str:
    return min(BLOCK_SIZES, key=lambda w: abs(BLOCK_SIZES[w] - o.size)) if o.kind == "block" else ""


@dataclass
class HouseRules:
    """The hidden rules of one benchmark run, in the drawn order of their kinds."""

    rules: list[Rule]

    @classmethod
    def draw(cls, seed: int, kinds: Sequence[str] = QUIRK_KINDS) -> "HouseRules":
        """Seeded rules: kind order, attribute combinations and magnitudes vary with the seed."""
        for k in kinds:
            get_kind(k)  # raises SceneError naming the known kinds
        rng = random.Random(f"rules-{seed}")
        order = list(kinds)
        rng.shuffle(order)
        rules: list[Rule] = []
        used_looks: set[tuple[str, str]] = set()
        used_bowls: set[str] = set()
        tray_taken = False
        for name in order:
            k = get_kind(name)
            mag = tuple(sorted(k.draw_magnitude(rng).items()))
            if k.on == BLOCK:
                looks = [(c, s) for c in BLOCK_COLORS for s in k.sizes if (c, s) not in used_looks]
                c, s = rng.choice(looks)
                used_looks.add((c, s))
                rules.append(Rule(name, (("kind", "block"), ("color", c), ("size", s)), mag))
            elif not k.physical and not tray_taken and rng.random() < 0.3:
                tray_taken = True
                rules.append(Rule(name, (("kind", "tray"),), mag))
            else:
                c = rng.choice([c for c in BOWL_COLORS if c not in used_bowls])
                used_bowls.add(c)
                rules.append(Rule(name, (("kind", "bowl"), ("color", c)), mag))
        return cls(rules)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(r.quirk for r in self.rules)

    def rules_for(self, o: SceneObject) -> list[Rule]:
        return [r for r in self.rules if r.matches(o)]

    def apply(self, scene: Scene, rng: random.Random) -> Scene:
        """A copy of ``scene`` with every object's quirks recorded and physically realised."""
        for o in list(scene.objects):
            for r in self.rules_for(o):
                scene = add_quirk(scene, r.quirk, o.name, rng, dict(r.magnitude))
        return scene

    def to_dict(self) -> dict[str, Any]:
        return {"rules": [{"quirk": r.quirk, "objects": r.words(), "magnitude": dict(r.magnitude)} for r in self.rules]}


@dataclass
class Task:
    """One teaching task: the scene (with hidden quirks), the text the robot hears and the true goal.

    ``goal``: ``[(object, target)]`` pairs. ``kinds``: quirk kinds on goal objects and targets. ``control``: no goal
    object or target carries a quirk. ``shares``: for controls, the quirky look a goal object shares one attribute
    with. ``recipe``: task type and focus, e.g. 'move:slippery', 'all:control'.
    """

    id: str
    round: int
    text: str
    goal: list[tuple[str, str]]
    scene: Scene
    kinds: list[str] = field(default_factory=list)
    control: bool = False
    recipe: str = ""
    shares: str = ""

    def allowed_for_step(self, plan: Sequence[dict[str, Any]], i: int) -> set[str]:
        """Arguments of step ``i`` of ``plan`` that a hidden rule calls for there: the quirks of the picked object,
        of the placed object (carried) and of the place's target, by their kinds' ``args``."""
        call = plan[i]
        skill, a = call["skill"], call.get("args", {})
        names = []
        if skill == "pick":
            names.append(a.get("object"))
        elif skill == "place":
            names.append(a.get("target"))
            held = next((s.get("args", {}).get("object") for s in reversed(plan[:i]) if s["skill"] == "pick"), None)
            names.append(held)
        out: set[str] = set()
        for n in names:
            if n and n in self.scene.names:
                for q in self.scene.quirks_for(n):
                    out |= {arg for sk, arg in get_kind(q.kind).args if sk == skill}
        return out

    def wishes(self) -> list[tuple[str, tuple[float, float], float]]:
        """The user's own placement wishes in this scene: (container, [dx, dy] m, tol m), from non-physical kinds."""
        out = []
        for q in self.scene.quirks:
            k = get_kind(q.kind)
            w = k.wanted_offset(q)
            if not k.physical and w is not None:
                out.append((q.object, (float(w[0]), float(w[1])), float(q.params.get("tol", 0.015))))
        return out

    def yaw_wishes(self) -> list[tuple[str, float, float]]:
        """The user's wishes for how blocks in a container are turned: (container, yaw rad modulo a quarter turn,
        tol rad), from non-physical kinds."""
        out = []
        for q in self.scene.quirks:
            k = get_kind(q.kind)
            w = k.wanted_yaw(q)
            if not k.physical and w is not None:
                out.append((q.object, float(w[0]), float(w[1])))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "round": self.round, "text": self.text, "goal": [list(g) for g in self.goal],
                "kinds": self.kinds, "control": self.control, "recipe": self.recipe, "shares": self.shares,
                "scene": self.scene.to_dict()}


def round_plan(round_no: int, n_tasks: int, rules: HouseRules, rng: random.Random) -> list[tuple[str, str]]:
    """(task type, focus) per task of a round. Focus: a quirk kind, 'a+b' (a block kind and a container kind, rounds
    ≥ 2) or 'control'. At least :data:`CONTROL_SHARE` controls; the quirk kinds in the rules' order first in round 1."""
    if n_tasks <= 0:
        return []
    n_ctrl = max(1, math.ceil(CONTROL_SHARE * n_tasks)) if n_tasks >= 3 else (1 if n_tasks == 2 else 0)
    kinds = list(rules.kinds)
    blocks = [k for k in kinds if get_kind(k).on == BLOCK]
    conts = [k for k in kinds if get_kind(k).on != BLOCK]
    n_q = n_tasks - n_ctrl
    size_of = {r.quirk: r.attr("size") for r in rules.rules}
    combos = [f"{b}+{c}" for b in blocks for c in conts if size_of.get(b) in get_kind(c).sizes]
    n_combo = round(0.2 * n_q) if round_no >= 2 and combos else 0
    foci = [kinds[i % len(kinds)] for i in range(n_q - n_combo)] if kinds else []
    foci += [combos[rng.randrange(len(combos))] for _ in range(n_combo)]
    foci += ["control"] * (n_tasks - len(foci))
    head = foci[: len(kinds)] if round_no == 1 else []
    tail = foci[len(head):]
    rng.shuffle(tail)
    types, weights = zip(*TASK_TYPES)
    return [(rng.choices(types, weights)[0], f) for f in head + tail]


class TaskGenerator:
    """Seeded task generator: ``generator.round(r, n)`` gives the tasks of round ``r`` (1-based)."""

    def __init__(self, seed: int = 0, rules: HouseRules | None = None, kinds: Sequence[str] = QUIRK_KINDS,
                 distractors: tuple[int, int] = (1, 2)) -> None:
        self.seed = seed
        self.rules = rules or HouseRules.draw(seed, kinds)
        self.distractors = distractors

    def round(self, round_no: int, n_tasks: int) -> list[Task]:
        if round_no < 1:
            raise ValueError(f"rounds are numbered from 1, got {round_no}")
        rng = random.Random(f"round-{self.seed}-{round_no}")
        return [self.task(t, f, round_no, i, rng) for i, (t, f) in enumerate(round_plan(round_no, n_tasks, self.rules, rng))]

    def task(self, ttype: str, focus: str, round_no: int, index: int, rng: random.Random) -> Task:
        """One task of type ``ttype`` with ``focus`` in a freshly drawn scene; falls back to a plain move."""
        last: Exception | None = None
        for attempt in range(60):
            t = ttype if attempt < 40 else "move"
            try:
                return self._task(t, focus, round_no, index, rng)
            except SceneError as e:
                last = e
        raise SceneError(f"could not draw a {ttype} task for {focus}: {last}")

    # --- drawing ---------------------------------------------------------------------------------
    def _block_rules(self) -> list[Rule]:
        return [r for r in self.rules.rules if r.attr("kind") == "block"]

    def _cont_rules(self) -> list[Rule]:
        return [r for r in self.rules.rules if r.attr("kind") != "block"]

    def _plain_block(self, rng: random.Random, used: set[tuple[str, str]], share: Optional[Rule] = None,
                     sizes: Sequence[str] = SIZES) -> tuple[str, str]:
        """A block look carrying no block rule; with ``share``, sharing exactly one attribute with it."""
        quirky = {(r.attr("color"), r.attr("size")) for r in self._block_rules()}
        opts = [(c, s) for c in BLOCK_COLORS for s in sizes if (c, s) not in quirky and (c, s) not in used]
        if share is not None:
            sc, ss = share.attr("color"), share.attr("size")
            opts = [(c, s) for c, s in opts if (c == sc) != (s == ss)]
        if not opts:
            raise SceneError("no block look left")
        return rng.choice(opts)

    def _plain_bowl(self, rng: random.Random, used: set[str]) -> str:
        quirky = {r.attr("color") for r in self._cont_rules() if r.attr("kind") == "bowl"}
        opts = [c for c in BOWL_COLORS if c not in quirky and c not in used]
        if not opts:
            raise SceneError("no bowl colour left")
        return rng.choice(opts)

    def _task(self, ttype: str, focus: str, round_no: int, index: int, rng: random.Random) -> Task:
        control = focus == "control"
        parts = [] if control else focus.split("+")
        brule = next((r for r in self._block_rules() if r.quirk in parts), None)
        crule = next((r for r in self._cont_rules() if r.quirk in parts), None)
        blocks: list[tuple[str, str]] = []  # looks (colour, size) of the blocks
        bowls: list[str] = []
        tray = False
        shares = ""
        goal_looks: list[tuple[str, str]] = []

        # the target: a container (a quirky one when the focus asks for it) or, for stacks, a block
        if ttype == "stack" and crule is None:
            target_kind = "block"
        else:
            target_kind = "container"
            if ttype == "stack":
                ttype = "move"
        if crule is not None and crule.attr("kind") == "tray":
            tray = True
            target = "gray tray"
        elif crule is not None:
            bowls.append(crule.attr("color") or "red")
            target = object_name(bowls[0], "bowl")
        elif target_kind == "container":
            if rng.random() < 0.2 and not any(r.attr("kind") == "tray" for r in self._cont_rules()):
                tray, target = True, "gray tray"
            else:
                bowls.append(self._plain_bowl(rng, set()))
                target = object_name(bowls[0], "bowl")
        else:
            target = ""
        sizes_ok = SIZES
        if crule is not None and get_kind(crule.quirk).sizes != SIZES and get_kind(crule.quirk).on != BLOCK:
            sizes_ok = get_kind(crule.quirk).sizes

        # the goal block(s)
        if brule is not None:
            look = (brule.attr("color") or "red", brule.attr("size") or "medium")
            if look[1] not in sizes_ok:
                raise SceneError(f"a {look[1]} block does not fit {target}")
            goal_looks.append(look)
        else:
            share = rng.choice(self._block_rules()) if control and self._block_rules() and rng.random() < 0.7 else None
            if share is None and control and self._cont_rules() and rng.random() < 0.5:
                cr = rng.choice(self._cont_rules())
                if cr.attr("color"):
                    quirky = {(r.attr("color"), r.attr("size")) for r in self._block_rules()}
                    opts = [(cr.attr("color"), s) for s in sizes_ok if (cr.attr("color"), s) not in quirky]
                    if opts:
                        goal_looks.append(rng.choice(opts))
                        shares = f"colour of the {cr.words()}"
            if not goal_looks:
                goal_looks.append(self._plain_block(rng, set(), share, sizes_ok))
                if share is not None:
                    shares = share.words()
        blocks.extend(goal_looks)

        # more goal blocks for "all" (same colour, other sizes) and "sort" (bowls of their colours)
        if ttype == "all":
            c = goal_looks[0][0]
            extra = [s for s in sizes_ok if (c, s) not in blocks and (control is False or not self._quirky(c, s))
                     and (brule is None or not self._quirky(c, s) or (c, s) == goal_looks[0])]
            if not extra:
                raise SceneError("no second block of that colour")
            goal_looks.append((c, rng.choice(extra)))
            blocks.append(goal_looks[-1])
        if ttype == "sort":
            if tray or crule is not None:
                raise SceneError("sorting needs plain bowls of the blocks' colours")
            bowls = [goal_looks[0][0]]
            c2 = rng.choice([c for c in BOWL_COLORS if c != bowls[0] and c not in {r.attr("color") for r in self._cont_rules()}])
            look2 = self._plain_block(rng, set(blocks)) if control or brule is None else None
            if look2 is None or look2[0] != c2:
                opts = [s for s in SIZES if not self._quirky(c2, s)]
                look2 = (c2, rng.choice(opts))
            bowls.append(c2)
            goal_looks.append(look2)
            blocks.append(look2)
            if any(self._cont_quirk_color(c) for c in bowls):
                raise SceneError("a sorting bowl carries a quirk")
        if ttype == "stack":
            base = self._plain_block(rng, set(blocks), sizes=("medium", "large"))
            blocks.append(base)
            target = object_name(base[0], "block", base[1])

        # distractors: quirky blocks and containers (so controls are tempting), plain blocks
        n_dis = rng.randint(*self.distractors)
        for _ in range(n_dis):
            if rng.random() < 0.6 and self._block_rules():
                r = rng.choice(self._block_rules())
                look = (r.attr("color") or "red", r.attr("size") or "medium")
            else:
                look = self._plain_block(rng, set(blocks))
            if look not in blocks and (ttype != "all" or look[0] != goal_looks[0][0]) and (ttype != "sort" or look[0] not in bowls):
                blocks.append(look)
        if len(bowls) < 2 and not (tray and bowls):
            quirky_bowls = [r.attr("color") for r in self._cont_rules() if r.attr("kind") == "bowl" and r.attr("color") not in bowls]
            if ttype != "sort" and quirky_bowls and (control or rng.random() < 0.6):
                bowls.append(rng.choice(quirky_bowls))
            elif ttype != "sort" and not tray and rng.random() < 0.3:
                tray = True
            else:
                bowls.append(self._plain_bowl(rng, set(bowls)))
        if ttype == "all" and any(self._quirky(c, s) for c, s in blocks if c == goal_looks[0][0] and (c, s) not in goal_looks):
            raise SceneError("a same-coloured quirky block would join the set")
        scene = self._place(blocks, bowls, tray, rng)
        goal_names = [object_name(c, "block", s) for c, s in goal_looks]
        if ttype == "sort":
            goal = [(n, object_name(c, "bowl")) for n, (c, _s) in zip(goal_names, goal_looks)]
        else:
            goal = [(n, target) for n in goal_names]
        text = self._text(ttype, goal, goal_looks, scene, rng)
        scene.seed = rng.randrange(2**31)
        names = {n for pair in goal for n in pair}
        kinds_here = sorted({q.kind for q in scene.quirks if q.object in names})
        if control and kinds_here:
            raise SceneError("a control task's goal carries a quirk")
        if control and not scene.quirks:
            raise SceneError("a control task needs quirky objects beside its goal")
        if not control and not kinds_here:
            raise SceneError("a quirk task's goal carries no quirk")
        return Task(id=f"r{round_no}-t{index:02d}", round=round_no, text=text, goal=goal, scene=scene, kinds=kinds_here,
                    control=control, recipe=f"{ttype}:{focus}", shares=shares)

    def _quirky(self, color: str, size: str) -> bool:
        return any(r.attr("color") == color and r.attr("size") == size for r in self._block_rules())

    def _cont_quirk_color(self, color: str) -> bool:
        return any(r.attr("kind") == "bowl" and r.attr("color") == color for r in self._cont_rules())

    def _text(self, ttype: str, goal: list[tuple[str, str]], looks: list[tuple[str, str]], scene: Scene, rng: random.Random) -> str:
        obj, tgt = goal[0]
        on = tgt == "gray tray" or scene.get(tgt).kind == "block" if tgt in scene.names else False
        tname = "tray" if tgt == "gray tray" else tgt
        if ttype == "sort":
            return rng.choice(("sort the blocks by colour", "put each block in the bowl of its colour"))
        if ttype == "all":
            return f"put all the {looks[0][0]} blocks {'on' if on else 'in'} the {tname}"
        if ttype == "stack":
            return rng.choice((f"stack the {self._refer(obj, scene, rng)} on the {tgt}", f"put the {self._refer(obj, scene, rng)} on top of the {tgt}"))
        verb = rng.choice(("put", "place"))
        return f"{verb} the {self._refer(obj, scene, rng)} {'on' if on else 'in'} the {tname}"

    def _refer(self, name: str, scene: Scene, rng: random.Random) -> str:
        """How the user names block ``name``: its full name, or its colour, size or position when that picks it out."""
        blocks = [o for o in scene.objects if o.kind == "block"]
        o = scene.get(name)
        ways = [name, name]
        if sum(b.color == o.color for b in blocks) == 1:
            ways.append(f"{o.color} block")
        if sum(_size(b) == _size(o) for b in blocks) == 1 and _size(o) != "medium":
            ways.append(f"{_size(o)} block")
        ys = sorted(blocks, key=lambda b: b.position[1])
        if len(blocks) >= 2 and ys[-1] is o and ys[-1].position[1] - ys[-2].position[1] > 0.06:
            ways.append("leftmost block")
        if len(blocks) >= 2 and ys[0] is o and ys[1].position[1] - ys[0].position[1] > 0.06:
            ways.append("rightmost block")
        return rng.choice(ways)

    def _place(self, blocks: list[tuple[str, str]], bowls: list[str], tray: bool, rng: random.Random) -> Scene:
        placed: list[tuple[float, float, float, bool]] = []
        objects: list[SceneObject] = []

        def spot(radius: float, block: bool = False) -> tuple[float, float]:
            for _ in range(400):
                x = rng.uniform(WORKSPACE_X[0] + radius * 0.5, WORKSPACE_X[1] - radius * 0.5)
                y = rng.uniform(WORKSPACE_Y[0] + radius * 0.5, WORKSPACE_Y[1] - radius * 0.5)
                if all(math.hypot(x - px, y - py) > radius + pr + 0.03 + (HAND_CLEARANCE if block and cont else 0.0)
                       for px, py, pr, cont in placed):
                    placed.append((x, y, radius, not block))
                    return x, y
            raise SceneError("could not place all objects without overlap")

        if tray:
            x, y = spot(TRAY_SIZE / 2)
            objects.append(SceneObject("gray tray", "tray", "gray", TRAY_SIZE, (x, y, TRAY_HEIGHT / 2), mass=0.5))
        for c in dict.fromkeys(bowls):
            x, y = spot(BOWL_DIAMETER / 2)
            objects.append(SceneObject(object_name(c, "bowl"), "bowl", c, BOWL_DIAMETER, (x, y, BOWL_HEIGHT / 2), mass=0.3))
        for c, sw in dict.fromkeys(blocks):
            s = BLOCK_SIZES[sw]
            x, y = spot(max(s * 0.75, 0.035), block=True)
            objects.append(SceneObject(object_name(c, "block", sw), "block", c, s, (x, y, s / 2), yaw=rng.uniform(-0.6, 0.6)))
        return self.rules.apply(Scene(objects=objects), rng)


__all__ = ["HouseRules", "Rule", "Task", "TaskGenerator", "round_plan", "QUIRK_KINDS", "CONTROL_SHARE"]
