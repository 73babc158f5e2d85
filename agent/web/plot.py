"""The teaching benchmark (``robocorrect bench teach``) as an SVG: corrections per task and success rate per
round, memory on against memory off, with the 95 % interval over seeds as error bars. Plain SVG text, no
plotting library."""
from __future__ import annotations

from html import escape
from typing import Any

METRICS = (("corrections_per_task", "corrections per task", None), ("success_rate", "success rate", 1.0))
COLOURS = {"memory_on": "#1f77b4", "memory_off": "#d62728"}


def _series(result: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out = {k: result[k]["rounds"] for k in ("memory_off", "memory_on") if isinstance(result.get(k), dict) and result[k].get("rounds")}
    if not out and result.get("rounds"):
        out["memory_on"] = result["rounds"]
    return out


def teach_svg(result: dict[str, Any], width: int = 640, height: int = 260) -> str:
    """Two panels side by side (one per metric); x: round, y: the metric's mean over seeds."""
    series = _series(result)
    pw, ph, ml, mb, mt = width // 2, height, 48, 36, 28
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 24}" '
             f'viewBox="0 0 {width} {height + 24}" font-family="sans-serif" font-size="11">']
    rounds = sorted({r["round"] for rs in series.values() for r in rs}) or [1]
    for p, (key, label, fixed_top) in enumerate(METRICS):
        x0 = p * pw
        vals = [r.get(key, 0.0) + r.get("ci95", {}).get(key, 0.0) for rs in series.values() for r in rs]
        top = fixed_top if fixed_top is not None else max(0.5, max(vals, default=0.5) * 1.15)
        iw, ih = pw - ml - 12, ph - mb - mt

        def X(rnd: float) -> float:
            return x0 + ml + (iw * (rnd - rounds[0]) / max(1, rounds[-1] - rounds[0]) if len(rounds) > 1 else iw / 2)

        def Y(v: float) -> float:
            return mt + ih * (1 - min(max(v, 0.0), top) / top)

        parts.append(f'<text x="{x0 + ml + iw / 2}" y="16" text-anchor="middle" font-weight="bold">{escape(label)}</text>')
        parts.append(f'<line x1="{x0 + ml}" y1="{mt + ih}" x2="{x0 + ml + iw}" y2="{mt + ih}" stroke="#444"/>')
        parts.append(f'<line x1="{x0 + ml}" y1="{mt}" x2="{x0 + ml}" y2="{mt + ih}" stroke="#444"/>')
        for k in range(5):
            v = top * k / 4
            parts.append(f'<text x="{x0 + ml - 4}" y="{Y(v) + 4:.1f}" text-anchor="end">{v:.2f}</text>')
            parts.append(f'<line x1="{x0 + ml}" y1="{Y(v):.1f}" x2="{x0 + ml + iw}" y2="{Y(v):.1f}" stroke="#eee"/>')
        for rnd in rounds:
            parts.append(f'<text x="{X(rnd):.1f}" y="{mt + ih + 14}" text-anchor="middle">{rnd}</text>')
        parts.append(f'<text x="{x0 + ml + iw / 2}" y="{mt + ih + 30}" text-anchor="middle">round</text>')
        for name, rs in series.items():
            c = COLOURS[name]
            pts = [(X(r["round"]), Y(r.get(key, 0.0)), r) for r in rs]
            parts.append('<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>'.format(
                c, " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in pts)))
            for x, y, r in pts:
                ci = r.get("ci95", {}).get(key, 0.0)
                if ci:
                    v = r.get(key, 0.0)
                    parts.append(f'<line x1="{x:.1f}" y1="{Y(v - ci):.1f}" x2="{x:.1f}" y2="{Y(v + ci):.1f}" stroke="{c}"/>')
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{c}"><title>{escape(name)} round {r["round"]}: '
                             f'{r.get(key, 0.0):.3f}</title></circle>')
    lx = 10
    for name in series:
        parts.append(f'<rect x="{lx}" y="{height + 10}" width="12" height="4" fill="{COLOURS[name]}"/>'
                     f'<text x="{lx + 16}" y="{height + 16}">{escape(name.replace("_", " "))}</text>')
        lx += 120
    seeds = result.get("seeds")
    if seeds:
        parts.append(f'<text x="{width - 8}" y="{height + 16}" text-anchor="end">seeds: {escape(str(len(seeds)))}; '
                     f'bars: 95 % interval</text>')
    parts.append("</svg>")
    return "".join(parts)
