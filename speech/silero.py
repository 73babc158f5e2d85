"""Silero VAD (the ONNX model shipped inside the ``silero-vad`` wheel) as a frame classifier for :mod:`speech.vad`.

The model takes 512-sample windows (32 ms at 16 kHz) with the last 64 samples of the previous window as
context, and carries a recurrent state; it returns the probability that the window is speech. Our frames
are 20 ms (:data:`speech.base.CHUNK`), so frames are buffered and the model runs whenever a full window is
in; each frame is classified by the latest probability, with hysteresis (speech starts above
``threshold`` and lasts until the probability falls below ``threshold - 0.15``, as silero's own
``VADIterator`` does).

Only ``onnxruntime`` is needed at run time: the model file is found through the installed package's
folder without importing ``silero_vad`` itself (its ``__init__`` imports torch).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from speech.base import SAMPLE_RATE, RecognizerError

WINDOW = 512  # samples per model call at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous window prepended to each call


def model_file(name: str = "silero_vad.onnx") -> Path:
    """Path of the ONNX model inside the installed ``silero-vad`` package."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise RecognizerError("voice activity detection 'silero' needs the silero-vad package: "
                              "pip install 'robocorrect[speech]' (or choose vad 'webrtc' / 'energy')")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / name
    if not path.is_file():
        raise RecognizerError(f"silero-vad is installed but {path} is missing; reinstall silero-vad")
    return path


class SileroVad:
    """Streaming speech probability for 16 kHz float32 frames of any length (see the module docstring).

    ``threshold``: probability (0..1) above which speech starts; speech ends below ``threshold - 0.15``."""

    def __init__(self, threshold: float = 0.5) -> None:
        if not 0.0 < threshold < 1.0:
            raise RecognizerError(f"silero threshold is a probability in (0, 1), got {threshold}")
        self.threshold = threshold
        self.neg_threshold = max(0.01, threshold - 0.15)
        try:
            import onnxruntime
        except ImportError:
            raise RecognizerError("voice activity detection 'silero' needs onnxruntime: pip install onnxruntime") from None
        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        self._session: Any = onnxruntime.InferenceSession(str(model_file()), sess_options=opts,
                                                          providers=["CPUExecutionProvider"])
        self.reset()

    def reset(self) -> None:
        """Forget the stream: recurrent state, context and buffered samples."""
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros(CONTEXT, np.float32)
        self._pending = np.zeros(0, np.float32)
        self.prob = 0.0
        self.speaking = False

    def window_prob(self, window: np.ndarray) -> float:
        """Run the model on one window of :data:`WINDOW` samples; returns the speech probability."""
        x = np.concatenate([self._context, window.astype(np.float32)])[None, :]
        out, self._state = self._session.run(None, {"input": x, "state": self._state,
                                                    "sr": np.array(SAMPLE_RATE, dtype=np.int64)})
        self._context = x[0, -CONTEXT:]
        return float(np.asarray(out).reshape(-1)[0])

    def __call__(self, frame: np.ndarray) -> bool:
        """Take a frame (any length); True while the stream is in speech."""
        self._pending = np.concatenate([self._pending, np.asarray(frame, np.float32)])
        while len(self._pending) >= WINDOW:
            self.prob = self.window_prob(self._pending[:WINDOW])
            self._pending = self._pending[WINDOW:]
            if self.prob >= self.threshold:
                self.speaking = True
            elif self.prob < self.neg_threshold:
                self.speaking = False
        return self.speaking
