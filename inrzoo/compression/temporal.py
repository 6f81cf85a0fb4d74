"""Latents coded across time: a key latent every G frames, each other one as its change from the previous.

The prediction works on the file's integer symbols, so it is exact: a frame's latent decodes to the very
values independent coding gives (no drift, nothing to re-quantise), and frame k needs only the symbols
from its group's key up to k. Each group of pictures (GOP) is its own ANS chunk, so decoding frame k
reads one chunk and at most G rows, whatever k is (random access). Keys and changes have one
discretised Laplace each, fitted to the symbols at compress time and stored in a 32-byte table.
"""

from __future__ import annotations

import struct
from dataclasses import astuple, dataclass

import numpy as np

#: key location, scale (float32), lowest, highest key symbol (int32), then the same for the changes.
_MODEL = struct.Struct("<ffiiffii")
#: A Laplace scale below this gains nothing (the symbols are integers) and risks constriction's precision.
_MIN_SCALE = 0.05


@dataclass(frozen=True)
class TemporalModel:
    """The symbol models of a temporally coded latent table: one for the keys, one for the changes."""

    key_loc: float
    key_scale: float
    key_low: int
    key_high: int
    change_loc: float
    change_scale: float
    change_low: int
    change_high: int

    def to_bytes(self) -> bytes:
        return _MODEL.pack(*astuple(self))

    @classmethod
    def from_bytes(cls, data: bytes) -> TemporalModel:
        if len(data) != _MODEL.size:
            raise ValueError(f"a temporal model table is {_MODEL.size} bytes, got {len(data)}")
        return cls(*_MODEL.unpack(data))

    @property
    def size(self) -> int:
        return _MODEL.size


def is_key(frames: np.ndarray, gop: int) -> np.ndarray:
    return frames % gop == 0


def changes(symbols: np.ndarray, gop: int) -> np.ndarray:
    """(T, D) symbols -> what is coded: the symbols at keys, elsewhere the change from the previous frame."""
    out = symbols.astype(np.int64).copy()
    frames = np.arange(len(symbols))
    predicted = ~is_key(frames, gop)
    out[predicted] -= symbols[frames[predicted] - 1]
    return out


def _laplace_fit(values: np.ndarray) -> tuple[float, float, int, int]:
    if values.size == 0:
        return 0.0, 1.0, 0, 0
    loc = float(np.median(values))
    scale = max(float(np.abs(values - loc).mean()), _MIN_SCALE)
    # Stored as float32: fitting and coding must use the same numbers.
    return float(np.float32(loc)), float(np.float32(scale)), int(values.min()), int(values.max())


def fit_model(symbols: np.ndarray, gop: int) -> TemporalModel:
    """Laplace models (median, mean absolute deviation: the maximum-likelihood fit) of keys and changes."""
    coded = changes(symbols, gop)
    keys = is_key(np.arange(len(symbols)), gop)
    return TemporalModel(*_laplace_fit(coded[keys]), *_laplace_fit(coded[~keys]))


def _laplace(loc: float, scale: float, low: int, high: int):  # noqa: ANN202 (constriction's model type)
    import constriction

    return constriction.stream.model.QuantizedLaplace(low, max(high, low + 1), loc, scale)


def _models(model: TemporalModel) -> dict[bool, tuple[int, int, object]]:
    """(lowest, highest symbol, constriction model) of the keys (True) and the changes (False), built once."""
    return {
        True: (model.key_low, model.key_high, _laplace(model.key_loc, model.key_scale, model.key_low, model.key_high)),
        False: (
            model.change_low,
            model.change_high,
            _laplace(model.change_loc, model.change_scale, model.change_low, model.change_high),
        ),
    }


def gop_ranges(num_frames: int, gop: int) -> list[range]:
    return [range(start, min(start + gop, num_frames)) for start in range(0, num_frames, gop)]


def encode_gops(symbols: np.ndarray, gop: int, model: TemporalModel) -> list[bytes]:
    """One ANS chunk per GOP, rows in time order (a stack: coded last row first)."""
    import constriction

    coded = changes(symbols, gop)
    models = _models(model)
    chunks = []
    for frames in gop_ranges(len(symbols), gop):
        ans = constriction.stream.stack.AnsCoder()
        for t in reversed(frames):
            low, high, laplace = models[t % gop == 0]
            if low != high:  # one symbol repeated: its range says it all
                ans.encode_reverse(coded[t].astype(np.int32), laplace)
        chunks.append(ans.get_compressed().astype("<u4").tobytes())
    return chunks


def decode_gop(data: bytes, first: int, count: int, width: int, gop: int, model: TemporalModel) -> np.ndarray:
    """The symbols (count, width) of frames ``first .. first + count - 1`` of one GOP (``first`` its key);
    only those rows are decoded, so a frame early in its group costs less."""
    import constriction

    ans = constriction.stream.stack.AnsCoder(np.frombuffer(data, dtype="<u4").astype(np.uint32))
    models = _models(model)
    rows = np.empty((count, width), dtype=np.int64)
    for i in range(count):
        low, high, laplace = models[(first + i) % gop == 0]
        change = np.asarray(ans.decode(laplace, width), dtype=np.int64) if low != high else np.full(width, low)
        rows[i] = change if i == 0 else rows[i - 1] + change
    return rows
