"""A low-rank adapter of Whisper's decoder, merged into a copy of the model once and cached.

The adapter (``speech/data/whisper_base_adapter.npz``, trained by ``python3 -m agent.bench.asr_adapt``) holds, for
some linear layers of the decoder, two matrices ``A`` (rank x inputs) and ``B`` (outputs x rank); the adapted
weight is ``W + scale * B @ A`` (LoRA). CTranslate2 cannot add them at run time, so :func:`adapted_model` writes
the merged weights into a copy of the model folder under ``~/.cache/robocorrect`` (named by the adapter's hash;
made once, about 2 s) and the recogniser loads that copy. numpy only.

File layout: one array per layer and matrix, ``<variable name>|A`` and ``<variable name>|B`` (the variable of
the CTranslate2 file, e.g. ``decoder/layer_0/self_attention/linear_0/weight``), and ``_scale`` (a 0-d array).
The JSON file beside it says how it was trained and on which phrases (none an evaluation utterance).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from speech.base import SpeechError

DATA = Path(__file__).resolve().parent / "data" / "whisper_base_adapter.npz"
CACHE = Path.home() / ".cache" / "robocorrect"


def load(path: str | Path) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], float]:
    """({variable name: (A, B)}, scale) of an adapter file."""
    path = Path(path)
    if not path.is_file():
        raise SpeechError(f"no Whisper adapter at {path}")
    try:
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise SpeechError(f"{path} is not a Whisper adapter: {e}") from None
    scale = float(arrays.pop("_scale", 1.0))
    pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for k in arrays:
        name, _, part = k.rpartition("|")
        if part == "A":
            if f"{name}|B" not in arrays:
                raise SpeechError(f"{path}: {name} has A but no B")
            pairs[name] = (arrays[k], arrays[f"{name}|B"])
    if not pairs:
        raise SpeechError(f"{path} holds no adapter matrices")
    return pairs, scale


def save(path: str | Path, pairs: dict[str, tuple[np.ndarray, np.ndarray]], scale: float) -> Path:
    """Write an adapter file (float16 matrices)."""
    arrays = {f"{n}|{p}": m.astype(np.float16) for n, (a, b) in pairs.items() for p, m in (("A", a), ("B", b))}
    np.savez(path, _scale=np.array(scale, np.float32), **arrays)
    return Path(path)


def merged(weights: np.ndarray, a: np.ndarray, b: np.ndarray, scale: float) -> np.ndarray:
    """``weights + scale * b @ a`` in float32 (shape of ``weights``)."""
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    if b32.shape[0] != weights.shape[0] or a32.shape[1] != weights.shape[1] or a32.shape[0] != b32.shape[1]:
        raise SpeechError(f"adapter matrices {a.shape} / {b.shape} do not fit a weight of shape {weights.shape}")
    return weights.astype(np.float32) + scale * (b32 @ a32)


def adapted_model(model_dir: str | Path, adapter: str | Path, cache: Path = CACHE) -> Path:
    """The folder of ``model_dir``'s model with ``adapter`` merged in (made once under ``cache``)."""
    from speech import ct2file

    model_dir, adapter = Path(model_dir), Path(adapter)
    key = hashlib.sha256(adapter.read_bytes() + str(model_dir.resolve()).encode()).hexdigest()[:12]
    out = cache / f"{model_dir.name}+adapter-{key}"
    if (out / "model.bin").is_file():
        return out
    pairs, scale = load(adapter)
    m = ct2file.read(model_dir / "model.bin")
    missing = sorted(set(pairs) - set(m.variables))
    if missing:
        raise SpeechError(f"{adapter} does not fit {model_dir}: no variable {missing[0]}")
    replace = {n: merged(m.variables[n], a, b, scale) for n, (a, b) in pairs.items()}
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".", dir=cache))
    try:
        ct2file.write(m, tmp / "model.bin", replace)
        for f in model_dir.iterdir():
            if f.is_file() and f.name != "model.bin":
                shutil.copy(f, tmp / f.name)
        os.replace(tmp, out)  # atomic: another process may have made it meanwhile, then ours is dropped
    except OSError:
        if not (out / "model.bin").is_file():
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out
