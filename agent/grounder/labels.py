"""Label spaces of the learned heads and the magnitudes they stand for.

A grounded correction is a small structured *intent*: one class per head below, plus object pointers
(scene object names) and, where the utterance said a number, the number itself
(:mod:`agent.grounder.numbers`). :mod:`agent.grounder.apply` turns an intent into a changed plan.

Units follow ``shared/spec/corrections.md``: offsets in metres (base frame), yaw in radians.
"""
from __future__ import annotations

import math

LEVEL = ("skill", "plan", "stop", "none", "unclear")
HIST = ("new", "repeat", "reverse", "undo")  # undo: the last correction reverted in full
HMAG = ("same", "small", "large")
# signed magnitude of one offset axis or of yaw: s/m/l small/medium/large, n = "the number said"
SIGNED = ("none", "+s", "+m", "+l", "+n", "-s", "-m", "-l", "-n")
# scale of speed / force / height: "-" lowers, "+" raises
SCALE = ("none", "-s", "-m", "-l", "+s", "+m", "+l")
PLAN_OP = ("none", "retarget_object", "retarget_target", "append")
TASK = ("move", "all_to", "sort", "pick_only")

AXES = ("x", "y", "z")
ARG_HEADS = ("x", "y", "z", "yaw", "speed", "force", "height")
# the joint output: WHICH arguments one correction changes (none, one, or two of them), predicted as one class,
# so a force correction cannot also move the gripper because an offset head fired on its own
ACTIVE = ("none",) + ARG_HEADS + tuple(f"{a}+{b}" for i, a in enumerate(ARG_HEADS) for b in ARG_HEADS[i + 1:])


def active_of(labels: dict[str, str]) -> str:
    """The :data:`ACTIVE` class of a label dict (heads whose class is not "none", in ARG_HEADS order)."""
    on = [h for h in ARG_HEADS if labels.get(h, "none") != "none"]
    return "+".join(on[:2]) if on else "none"

SIGNED_HEADS = ("x", "y", "z", "yaw")
SCALE_HEADS = ("speed", "force", "height")
CLASS_HEADS: dict[str, tuple[str, ...]] = {
    "level": LEVEL, "hist": HIST, "hmag": HMAG,
    "x": SIGNED, "y": SIGNED, "z": SIGNED, "yaw": SIGNED,
    "speed": SCALE, "force": SCALE, "height": SCALE,
    "plan_op": PLAN_OP, "task": TASK, "active": ACTIVE,
}
GROUND_HEADS = ("level", "hist", "hmag", "x", "y", "z", "yaw", "speed", "force", "height", "plan_op", "active")
POINTER_SLOTS = ("g_obj", "g_tgt", "p_obj", "p_tgt")  # grounding object/target, plan object/target

# Vague magnitudes (contract: small 0.5-2 cm / 2-20 deg, medium 1-6 cm / 6-45 deg, large 4-20 cm).
OFFSET_M = {"s": 0.012, "m": 0.03, "l": 0.08}
YAW_RAD = {"s": math.radians(10), "m": math.radians(25), "l": math.radians(60)}
SCALE_RATIO = {
    "speed": {"-s": 0.8, "-m": 0.6, "-l": 0.4, "+s": 1.25, "+m": 1.5, "+l": 2.0},
    "force": {"-s": 0.8, "-m": 0.67, "-l": 0.5, "+s": 1.25, "+m": 1.5, "+l": 2.0},
    "height": {"-s": 0.8, "-m": 0.67, "-l": 0.5, "+s": 1.25, "+m": 1.5, "+l": 2.0},
}
REVERSE_FRACTION = 0.5  # "too far, back a little": half of the last step back, at most a small step
