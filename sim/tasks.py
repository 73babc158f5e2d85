"""Task and scene generators for the teaching benchmark: rounds of pick-and-place tasks with hidden quirks.

One benchmark run draws a :class:`QuirkRules` from its seed: the hidden rules of this "household", tied to
what the policy can see so that a lesson can carry over to new scenes (frames and units as in
``shared/spec/corrections.md``: metres, newtons, base frame x forward, y left):

- ``small_grasp``: every *small* block needs a lower grasp (pick ``offset`` z ≤ ``max_dz``);
- ``slippery``: every block of the slippery colour (medium size) slips unless gripped hard;
- ``heavy``: the blocks of the heavy colour (always large) need a firm grip;
- ``offcenter_drop``: the bowl of the off-centre colour only catches objects dropped at ``offset``;
- ``placement_pref``: the user wants things in the bowl of the preferred colour (or the tray) at one side (``offset``).

Every object in every scene carries the quirks of its class (a consistent world). Round 1's tasks repeat the
same quirk kinds, so knowledge from earlier tasks of the round already helps; rounds 2 and 3 use new scenes
(other positions, colours, distractors) with the same kinds, plus combinations (a small block into the
off-centre bowl) and **control tasks**: tasks whose goal objects carry no quirk of a learned kind while quirky
objects stand beside them (a large block after "small blocks need a lower grasp"; a bowl other than the
off-centre one). On a control task, knowledge that changes a step's argument that no quirk of the task asks
for is applied out of scope (:meth:`Task.allowed_args`).

The physics of each quirk is built by ``sim.quirks.add_quirk`` (bevelled small blocks, low friction, mass, a
pocket insert in the off-centre bowl); its ``params`` are what the simulated user asks for.

    gen = TaskGenerator(seed=0)
    for task in gen.round(1, 20):
        task.text, task.goal, task.scene, task.control, task.allowed_args()
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from hardware.scene import BLOCK_SIZES, BOWL_DIAMETER, BOWL_HEIGHT, TRAY_HEIGHT, TRAY_SIZE, Scene, SceneError, SceneObject, object_name
from sim.scene import WORKSPACE_X, WORKSPACE_Y

QUIRK_KINDS = ("small_grasp", "slippery", "heavy", "offcenter_drop", "placement_pref")
# Extra distance (m) between a block and a bowl / tray: a low grasp next to a bowl's rim hits it with the hand.
HAND_CLEARANCE = 0.05
POCKET_OFFSET = 0.04  # m from the off-centre bowl's centre to its pocket (sim.quirks.POCKET["offset"])
# Which skill arguments each quirk kind legitimately changes: (skill, arg).
QUIRK_ARGS: dict[str, tuple[tuple[str, str], ...]] = {
    "small_grasp": (("pick", "offset"),),
    "slippery": (("pick", "force"), ("pick", "speed"), ("place", "speed")),
    "heavy": (("pick", "force"), ("pick", "speed"), ("place", "speed")),
    "tall_neighbor": (("pick", "height"),),
    "offcenter_drop": (("place", "offset"),),
    "placement_pref": (("place", "offset"),),
}
# The six colours of the project's scenes (sim.scene.random_scene's palette), for blocks and for bowls.
BLOCK_COLORS = ("red", "green", "blue", "yellow", "orange", "purple")
BOWL_COLORS = ("red", "green", "blue", "yellow", "orange", "purple")
TASK_TEMPLATES = ("put the {object} in the {target}", "place the {object} in the {target}")
TRAY_TEMPLATES = ("put the {object} on the {target}", "place the {object} on the {target}")


@dataclass
class QuirkRules:
    """The hidden rules of one benchmark run (drawn once from its seed, the same in every round).

    Which objects carry which quirk: every small block ``small_grasp``; blocks of ``slippery_color`` (drawn
    medium) ``slippery``; blocks of ``heavy_color`` (drawn large) ``heavy``; the bowl of ``offcenter_color``
    ``offcenter_drop``; the bowl of ``pref_color`` (or the gray tray, ``pref_container="tray"``)
    ``placement_pref``. Slipperiness and weight are properties of a material
    (a colour here), as a person would describe them ("the blue blocks are heavy").

    The physical numbers (``max_dz``, ``min_force``, the pocket's tolerance) come from ``sim.quirks.add_quirk``,
    which builds the physics they describe. The rules fix what must be the same in every scene for a lesson to
    carry over: the pocket direction of the off-centre bowl (``offcenter_offset``, [dx, dy] m from its centre)
    and where the user wants things in the preferred container (``pref_offset`` within ``pref_tol``, m). ``slippery_speed``:
    optionally, slippery blocks must also be carried at speed ≤ it (a user preference; None: no limit).
    """

    slippery_color: str = "yellow"
    heavy_color: str = "purple"
    offcenter_color: str = "green"
    offcenter_offset: tuple[float, float] = (0.0, 0.04)
    pref_color: str = "yellow"
    pref_container: str = "bowl"
    pref_offset: tuple[float, float] = (-0.025, 0.025)
    pref_tol: float = 0.015
    slippery_speed: Optional[float] = None
    kinds: tuple[str, ...] = QUIRK_KINDS

    @classmethod
    def draw(cls, seed: int, kinds: Sequence[str] = QUIRK_KINDS) -> "QuirkRules":
        """Seeded rules: colours, pocket direction and preferred spot vary with the seed."""
        unknown = [k for k in kinds if k not in QUIRK_KINDS]
        if unknown:
            raise ValueError(f"unknown quirk kinds {unknown}; known: {', '.join(QUIRK_KINDS)}")
        rng = random.Random(f"rules-{seed}")
        slip = rng.choice(("yellow", "orange", "purple"))
        heavy = rng.choice([c for c in ("blue", "purple", "orange") if c != slip])
        off_bowl = rng.choice(("green", "blue", "red"))
        pref = rng.choice([c for c in ("yellow", "orange", "purple", "blue") if c != off_bowl])
        r = POCKET_OFFSET
        ang = rng.choice((0.0, 0.5, 1.0, 1.5)) * math.pi
        return cls(
            slippery_color=slip,
            heavy_color=heavy,
            offcenter_color=off_bowl,
            offcenter_offset=(round(r * math.cos(ang), 4), round(r * math.sin(ang), 4)),
            pref_color=pref,
            pref_offset=(rng.choice((-0.025, 0.025)), rng.choice((-0.025, 0.025))),
            kinds=tuple(kinds),
        )

    def quirk_kinds_for(self, obj: SceneObject) -> list[str]:
        """The hidden quirk kinds an object of this kind / colour / size has under these rules."""
        out: list[str] = []
        k = self.kinds
        if obj.kind == "block":
            if "small_grasp" in k and obj.size <= BLOCK_SIZES["small"] + 1e-9:
                out.append("small_grasp")
            if "slippery" in k and obj.color == self.slippery_color:
                out.append("slippery")
            if "heavy" in k and obj.color == self.heavy_color:
                out.append("heavy")
        elif obj.kind == "bowl":
            if "offcenter_drop" in k and obj.color == self.offcenter_color:
                out.append("offcenter_drop")
            elif "placement_pref" in k and self.pref_container == "bowl" and obj.color == self.pref_color:
                out.append("placement_pref")
        elif obj.kind == "tray":
            if "placement_pref" in k and self.pref_container == "tray":
                out.append("placement_pref")
        return out

    def apply(self, scene: Scene, rng: random.Random) -> Scene:
        """A copy of ``scene`` with every object's quirks recorded and physically realised (``sim.quirks``), the
        rule-fixed parameters (pocket direction, preferred spot, carry speed) written over the drawn ones."""
        from sim.quirks import add_quirk

        for o in list(scene.objects):
            for kind in self.quirk_kinds_for(o):
                scene = add_quirk(scene, kind, o.name, rng)
                q = scene.quirks[-1]
                if kind == "offcenter_drop":
                    q.params["offset"] = list(self.offcenter_offset)
                elif kind == "placement_pref":
                    q.params["offset"] = list(self.pref_offset)
                    q.params["tol"] = self.pref_tol
                elif kind == "slippery" and self.slippery_speed:
                    q.params["max_speed"] = self.slippery_speed
        return scene


@dataclass
class Task:
    """One teaching task: the scene (with hidden quirks), the text the robot hears and the true goal.

    ``goal``: ``[(object, target)]`` pairs in order. ``kinds``: quirk kinds that bear on the goal objects.
    ``control``: True for control tasks (no goal object carries a learned quirk kind although quirky
    objects stand in the scene); ``control_for``: the quirk kinds it is a control for.
    """

    id: str
    round: int
    text: str
    goal: list[tuple[str, str]]
    scene: Scene
    kinds: list[str] = field(default_factory=list)
    control: bool = False
    control_for: list[str] = field(default_factory=list)
    recipe: str = ""

    def allowed_args(self) -> set[tuple[int, str, str]]:
        """``(pair index, skill, arg)`` triples that some quirk of this task legitimately changes; a change by
        knowledge to any other argument of a pick / place step is out of scope."""
        allowed: set[tuple[int, str, str]] = set()
        for k, (o, t) in enumerate(self.goal):
            for q in self.scene.quirks_for(o):
                for skill, arg in QUIRK_ARGS.get(q.kind, ()):  # a slower carry is a fair lesson for a slippery block
                    allowed.add((k, skill, arg))
            if t in self.scene.names:
                for q in self.scene.quirks_for(t):
                    for skill, arg in QUIRK_ARGS.get(q.kind, ()):
                        allowed.add((k, skill, arg))
        return allowed

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "round": self.round, "text": self.text, "goal": [list(g) for g in self.goal],
                "kinds": self.kinds, "control": self.control, "control_for": self.control_for, "recipe": self.recipe,
                "scene": self.scene.to_dict()}


# ----------------------------------------------------------------------------------------------
# Recipes: what the goal object and target are, before colours and positions are drawn
# ----------------------------------------------------------------------------------------------
# name -> (block spec, target spec, quirk kinds it exercises, control_for)
# block spec: "small" | "slippery" | "heavy" (large, heavy colour) | "large" (plain colour) | "plain"; target: "plain_bowl" | "offcenter" | "pref"
RECIPES: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "small": ("small", "plain_bowl", ("small_grasp",), ()),
    "slippery": ("slippery", "plain_bowl", ("slippery",), ()),
    "heavy": ("heavy", "plain_bowl", ("heavy",), ()),
    "offcenter": ("plain", "offcenter", ("offcenter_drop",), ()),
    "pref": ("plain", "pref", ("placement_pref",), ()),
    "small+offcenter": ("small", "offcenter", ("small_grasp", "offcenter_drop"), ()),
    "slippery+pref": ("slippery", "pref", ("slippery", "placement_pref"), ()),
    "slippery+offcenter": ("slippery", "offcenter", ("slippery", "offcenter_drop"), ()),
    # (no large block into the off-centre bowl: a 5 cm block does not fit its pocket)
    "small+pref": ("small", "pref", ("small_grasp", "placement_pref"), ()),
    # controls: the goal carries no quirk of the kind named in control_for, quirky objects stand beside it
    "ctrl_large": ("large", "plain_bowl", (), ("small_grasp", "slippery", "heavy", "offcenter_drop", "placement_pref")),
    "ctrl_plain": ("plain", "plain_bowl", (), ("small_grasp", "slippery", "heavy", "offcenter_drop", "placement_pref")),
}
RECIPE_KINDS = {"small": "small_grasp", "slippery": "slippery", "heavy": "heavy", "offcenter": "offcenter_drop", "pref": "placement_pref"}


def round_recipes(round_no: int, n_tasks: int, rng: random.Random, kinds: Sequence[str] = QUIRK_KINDS) -> list[str]:
    """The recipe of each task of a round.

    Round 1: the single-quirk recipes repeat (about 4 times each in 20 tasks) plus ~15 % controls, shuffled,
    with every kind appearing once in the first tasks so later ones can profit from memory. Rounds ≥ 2:
    singles, ~20 % combinations and ~20 % controls.
    """
    singles = [r for r, k in RECIPE_KINDS.items() if k in kinds]
    combos = [r for r in RECIPES if "+" in r and all(RECIPE_KINDS[p] in kinds for p in r.split("+"))]
    controls = ["ctrl_plain", "ctrl_large"]
    if n_tasks <= 0:
        return []
    if not singles:
        return [controls[i % len(controls)] for i in range(n_tasks)]
    if round_no == 1:
        n_ctrl = max(1, round(0.15 * n_tasks)) if n_tasks >= 4 else 0
        n_combo = 0
    else:
        n_ctrl = max(1, round(0.2 * n_tasks)) if n_tasks >= 3 else 0
        n_combo = round(0.2 * n_tasks) if combos and n_tasks >= 5 else 0
    n_single = max(0, n_tasks - n_ctrl - n_combo)
    first = rng.sample(singles, len(singles))[:n_single]
    rest = [singles[i % len(singles)] for i in range(n_single - len(first))]
    body = rest + [combos[i % len(combos)] for i in range(n_combo)] + [controls[i % len(controls)] for i in range(n_ctrl)]
    rng.shuffle(body)
    if round_no == 1:
        out = first + body
    else:
        out = first + body
        rng.shuffle(out)
    return out[:n_tasks]


class TaskGenerator:
    """Seeded task generator: ``generator.round(r, n)`` gives the tasks of round ``r`` (1-based).

    The same seed always gives the same rules and tasks; each round draws fresh scenes.
    """

    def __init__(self, seed: int = 0, rules: QuirkRules | None = None, kinds: Sequence[str] = QUIRK_KINDS,
                 distractors: tuple[int, int] = (1, 3)) -> None:
        self.seed = seed
        self.rules = rules or QuirkRules.draw(seed, kinds)
        self.distractors = distractors

    def round(self, round_no: int, n_tasks: int) -> list[Task]:
        if round_no < 1:
            raise ValueError(f"rounds are numbered from 1, got {round_no}")
        rng = random.Random(f"round-{self.seed}-{round_no}")
        recipes = round_recipes(round_no, n_tasks, rng, self.rules.kinds)
        return [self.task(recipe, round_no, i, rng) for i, recipe in enumerate(recipes)]

    def task(self, recipe: str, round_no: int, index: int, rng: random.Random) -> Task:
        """One task of ``recipe`` with a freshly drawn scene (positions, colours, distractors)."""
        if recipe not in RECIPES:
            raise ValueError(f"unknown task recipe {recipe!r}; known: {', '.join(RECIPES)}")
        spec_block, spec_target, kinds, control_for = RECIPES[recipe]
        for attempt in range(50):
            try:
                scene, obj, tgt = self._scene(spec_block, spec_target, rng, control=bool(control_for))
                break
            except SceneError:
                if attempt == 49:
                    raise
        tmpl = rng.choice(TRAY_TEMPLATES if tgt == "gray tray" else TASK_TEMPLATES)
        text = tmpl.format(object=obj, target=tgt)
        scene.seed = rng.randrange(2**31)
        kinds_here = sorted({q.kind for q in scene.quirks if q.object in (obj, tgt)})
        return Task(
            id=f"r{round_no}-t{index:02d}", round=round_no, text=text, goal=[(obj, tgt)], scene=scene,
            kinds=kinds_here, control=bool(control_for), control_for=list(control_for), recipe=recipe,
        )

    # --- scene drawing ------------------------------------------------------------------------------
    def _block_look(self, spec: str, rng: random.Random, used: set[str]) -> tuple[str, str]:
        r = self.rules
        plain = [c for c in BLOCK_COLORS if c not in (r.slippery_color, r.heavy_color) and c not in used]
        if not plain and spec not in ("slippery", "heavy"):
            raise SceneError("no block colour left for another plain block")
        if spec == "slippery":
            return r.slippery_color, "medium"
        if spec == "heavy":
            return r.heavy_color, "large"
        if spec == "small":
            return rng.choice(plain), "small"
        if spec == "large":
            return rng.choice(plain), "large"
        return rng.choice(plain), "medium"

    def _scene(self, spec_block: str, spec_target: str, rng: random.Random, control: bool = False) -> tuple[Scene, str, str]:
        """Objects for one task; ``control``: the off-centre bowl and at least one quirky block stand as distractors."""
        r = self.rules
        placed: list[tuple[float, float, float, bool]] = []  # x, y, radius, is a container
        objects: list[SceneObject] = []

        def spot(radius: float, block: bool = False) -> tuple[float, float]:
            """A free xy; a block keeps HAND_CLEARANCE more from containers (the open hand must not hit a rim)."""
            for _ in range(400):
                x = rng.uniform(WORKSPACE_X[0] + radius * 0.5, WORKSPACE_X[1] - radius * 0.5)
                y = rng.uniform(WORKSPACE_Y[0] + radius * 0.5, WORKSPACE_Y[1] - radius * 0.5)
                if all(math.hypot(x - px, y - py) > radius + pr + 0.03 + (HAND_CLEARANCE if block and cont else 0.0)
                       for px, py, pr, cont in placed):
                    placed.append((x, y, radius, not block))
                    return x, y
            raise SceneError("could not place all objects without overlap")

        # containers: the target, plus other bowls (the quirky ones more often) and maybe the tray as distractors
        pref_tray = r.pref_container == "tray"
        has_tray = (spec_target == "pref" and pref_tray) or rng.random() < 0.3
        if has_tray:
            x, y = spot(TRAY_SIZE / 2)
            objects.append(SceneObject("gray tray", "tray", "gray", TRAY_SIZE, (x, y, TRAY_HEIGHT / 2), mass=0.5))
        special = {r.offcenter_color} | ({r.pref_color} if not pref_tray else set())
        plain_bowls = [c for c in BOWL_COLORS if c not in special]
        bowl_colors: list[str] = []
        if spec_target == "offcenter" or ("offcenter_drop" in r.kinds and (control or rng.random() < 0.6)):
            bowl_colors.append(r.offcenter_color)
        if not pref_tray and (spec_target == "pref" or ("placement_pref" in r.kinds and (control or rng.random() < 0.4))):
            bowl_colors.append(r.pref_color)
        if spec_target == "plain_bowl" or (len(bowl_colors) < 2 and rng.random() < 0.5):
            bowl_colors.append(rng.choice(plain_bowls))
        if not has_tray and len(bowl_colors) < 2:
            bowl_colors.append(rng.choice([c for c in plain_bowls if c not in bowl_colors]))
        rng.shuffle(bowl_colors)
        for c in bowl_colors:
            x, y = spot(BOWL_DIAMETER / 2)
            objects.append(SceneObject(object_name(c, "bowl"), "bowl", c, BOWL_DIAMETER, (x, y, BOWL_HEIGHT / 2), mass=0.3))
        if spec_target == "pref":
            target = "gray tray" if pref_tray else object_name(r.pref_color, "bowl")
        elif spec_target == "offcenter":
            target = object_name(r.offcenter_color, "bowl")
        else:
            target = next(object_name(c, "bowl") for c in bowl_colors if c not in special)

        # the goal block, then distractor blocks (quirky ones more often, so controls are tempting)
        used: set[str] = set()
        color, size_word = self._block_look(spec_block, rng, used)
        used.add(color)
        looks = [(color, size_word)]
        n_dis = rng.randint(*self.distractors)
        quirky = [s for s, k in (("small", "small_grasp"), ("slippery", "slippery"), ("heavy", "heavy")) if k in r.kinds]
        for d in range(n_dis):
            options = [s for s in (("small", "slippery", "heavy", "large", "plain") if not (control and d == 0 and quirky) else quirky)
                       if not (s == "slippery" and r.slippery_color in used) and not (s == "heavy" and r.heavy_color in used)]
            s = rng.choice(options)
            try:
                c, sw = self._block_look(s, rng, used)
            except SceneError:
                continue
            if c in used:
                continue
            used.add(c)
            looks.append((c, sw))
        for c, sw in looks:
            s = BLOCK_SIZES[sw]
            x, y = spot(max(s * 0.75, 0.035), block=True)
            objects.append(SceneObject(object_name(c, "block", sw), "block", c, s, (x, y, s / 2), yaw=rng.uniform(-0.6, 0.6)))
        obj = object_name(color, "block", size_word)

        scene = self.rules.apply(Scene(objects=objects), rng)
        return scene, obj, target
