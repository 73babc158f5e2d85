"""Read and write CTranslate2 ``model.bin`` files (the format of ``ctranslate2.specs.ModelSpec._serialize``).

A file is: binary version, spec name, spec revision, the variables (name, shape, dtype, raw bytes) and the aliases
(a name standing for another variable, e.g. Whisper's output projection for its token embeddings). Reading keeps
every variable as a numpy array over the file's bytes; writing swaps in replacement arrays (cast to the stored
dtype) and keeps everything else byte for byte, so ``write(read(f), g, {})`` copies ``f`` exactly. numpy only: the
recogniser merges its adapter (:mod:`speech.adapter`) without torch.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from speech.base import SpeechError

# the order of CTranslate2's DataType enum (include/ctranslate2/types.h); bfloat16 (5) has no numpy type
DTYPES: dict[int, type] = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


@dataclass
class ModelFile:
    """The contents of a ``model.bin``."""

    version: int
    spec: str
    revision: int
    variables: dict[str, np.ndarray] = field(default_factory=dict)
    aliases: list[tuple[str, str]] = field(default_factory=list)


def read(path: str | Path) -> ModelFile:
    """Parse ``path``; a file that is not a CTranslate2 model raises :class:`speech.base.SpeechError`."""
    buf = Path(path).read_bytes()
    pos = 0

    def num(fmt: str) -> int:
        nonlocal pos
        (v,) = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return v

    def text() -> str:
        nonlocal pos
        n = num("H")
        s = buf[pos:pos + n - 1].decode("utf-8")
        pos += n
        return s

    try:
        m = ModelFile(num("I"), text(), num("I"))
        for _ in range(num("I")):
            name = text()
            shape = [num("I") for _ in range(num("B"))]
            dt = DTYPES[num("B")]
            nbytes = num("I")
            m.variables[name] = np.frombuffer(buf, dt, count=nbytes // np.dtype(dt).itemsize, offset=pos).reshape(shape)
            pos += nbytes
        m.aliases = [(text(), text()) for _ in range(num("I"))]
    except (struct.error, KeyError, ValueError, UnicodeDecodeError) as e:
        raise SpeechError(f"{path} is not a CTranslate2 model file ({type(e).__name__} at byte {pos})") from None
    return m


def write(m: ModelFile, path: str | Path, replace: dict[str, np.ndarray] | None = None) -> Path:
    """Write ``m`` to ``path`` with the arrays of ``replace`` (variable name -> array of the same shape) swapped in,
    each cast to the variable's stored dtype."""
    replace = replace or {}
    unknown = sorted(set(replace) - set(m.variables))
    if unknown:
        raise SpeechError(f"no such variables in the model: {', '.join(unknown[:3])}")
    type_id = {v: k for k, v in DTYPES.items()}
    path = Path(path)
    with open(path, "wb") as f:
        def text(s: str) -> None:
            b = s.encode("utf-8")
            f.write(struct.pack("H", len(b) + 1) + b + b"\0")

        f.write(struct.pack("I", m.version))
        text(m.spec)
        f.write(struct.pack("I", m.revision))
        f.write(struct.pack("I", len(m.variables)))
        for name, v in m.variables.items():
            if name in replace:
                new = np.asarray(replace[name])
                if new.shape != v.shape:
                    raise SpeechError(f"{name}: shape {new.shape}, the model has {v.shape}")
                v = new.astype(v.dtype)
            text(name)
            f.write(struct.pack("B", v.ndim) + b"".join(struct.pack("I", d) for d in v.shape))
            data = np.ascontiguousarray(v).tobytes()
            f.write(struct.pack("B", type_id[v.dtype.type]) + struct.pack("I", len(data)) + data)
        f.write(struct.pack("I", len(m.aliases)))
        for alias, target in m.aliases:
            text(alias)
            text(target)
    return path
