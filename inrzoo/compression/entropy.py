"""Entropy coding of quantised symbols with constriction's ANS coder.

Each tensor is coded with whichever probability model gives the smallest total (model
parameters included): a quantised Gaussian or Laplace (2 floats), or the tensor's own
histogram (one count per symbol in its used range).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class CodedSymbols:
    coder: str  # "gaussian" | "laplace" | "histogram" | "constant"
    params: dict[str, Any]  # small numbers, stored in the header
    table: bytes  # histogram counts (empty for parametric models)
    data: bytes  # ANS words

    @property
    def size(self) -> int:
        return len(self.table) + len(self.data) + 8 * (self.coder in {"gaussian", "laplace"})


def _model(coder: str, bits: int, params: dict[str, Any], table: bytes) -> tuple[Any, tuple[Any, ...]]:
    import constriction

    top = 2**bits - 1
    models = constriction.stream.model
    if coder == "gaussian":
        return models.QuantizedGaussian(0, top, params["mean"], params["std"]), ()
    if coder == "laplace":
        return models.QuantizedLaplace(0, top, params["mean"], params["scale"]), ()
    counts = np.frombuffer(table, dtype=np.uint32).astype(np.float64)
    return models.Categorical(counts / counts.sum(), perfect=False), ()


def _encode(symbols: np.ndarray, coder: str, bits: int, params: dict[str, Any], table: bytes) -> bytes:
    import constriction

    model, _ = _model(coder, bits, params, table)
    offset = params.get("offset", 0)
    ans = constriction.stream.stack.AnsCoder()
    ans.encode_reverse((symbols - offset).astype(np.int32), model)
    return ans.get_compressed().astype("<u4").tobytes()


def encode_symbols(symbols: np.ndarray, bits: int) -> CodedSymbols:
    """Code a flat int array of symbols in ``[0, 2^bits)`` with the cheapest model."""
    symbols = symbols.astype(np.int64).ravel()
    if symbols.size == 0 or symbols.min() == symbols.max():
        # One value repeated (a constant or pruned-away tensor): nothing to code but the value.
        return CodedSymbols("constant", {"value": int(symbols[0]) if symbols.size else 0}, b"", b"")
    mean = float(symbols.mean()) if symbols.size else 0.0
    spread = float(symbols.std()) if symbols.size else 1.0
    candidates: list[tuple[str, dict[str, Any], bytes]] = [
        ("gaussian", {"mean": mean, "std": max(spread, 0.3)}, b""),
        (
            "laplace",
            {"mean": mean, "scale": max(float(np.abs(symbols - mean).mean()) if symbols.size else 1.0, 0.3)},
            b"",
        ),
    ]
    low, high = (int(symbols.min()), int(symbols.max())) if symbols.size else (0, 0)
    counts = np.bincount(symbols - low, minlength=high - low + 1).astype("<u4")
    candidates.append(("histogram", {"offset": low}, counts.tobytes()))
    best: CodedSymbols | None = None
    for coder, params, table in candidates:
        coded = CodedSymbols(coder, params, table, _encode(symbols, coder, bits, params, table))
        if best is None or coded.size < best.size:
            best = coded
    assert best is not None
    return best


def decode_symbols(coded: CodedSymbols, bits: int, count: int) -> np.ndarray:
    import constriction

    if coded.coder == "constant":
        return np.full(count, coded.params["value"], dtype=np.int64)
    model, _ = _model(coded.coder, bits, coded.params, coded.table)
    words = np.frombuffer(coded.data, dtype="<u4").astype(np.uint32)
    ans = constriction.stream.stack.AnsCoder(words)
    return ans.decode(model, count).astype(np.int64) + coded.params.get("offset", 0)


#: One tensor's share of a Laplace-coded stream: (symbol count, location, scale, lowest, highest symbol).
LaplaceGroup = tuple[int, float, float, int, int]


def _laplace(group: LaplaceGroup) -> Any:
    import constriction

    _, loc, scale, low, high = group
    return constriction.stream.model.QuantizedLaplace(low, max(high, low + 1), loc, scale)


def encode_laplace_stream(symbols: list[np.ndarray], groups: list[LaplaceGroup]) -> bytes:
    """One ANS stream for many tensors, each under its own discretised Laplace (the rate term's models): one
    stream instead of one per tensor saves the coder's flush words on every small bias."""
    import constriction

    ans = constriction.stream.stack.AnsCoder()
    for values, group in reversed(list(zip(symbols, groups, strict=True))):  # a stack: the first decodes first
        if group[3] != group[4]:  # one symbol repeated costs nothing: its range says it all
            ans.encode_reverse(values.astype(np.int32).ravel(), _laplace(group))
    return ans.get_compressed().astype("<u4").tobytes()


def decode_laplace_stream(data: bytes, groups: list[LaplaceGroup]) -> list[np.ndarray]:
    import constriction

    ans = constriction.stream.stack.AnsCoder(np.frombuffer(data, dtype="<u4").astype(np.uint32))
    return [
        np.asarray(ans.decode(_laplace(group), group[0]), dtype=np.int32)
        if group[3] != group[4]
        else np.full(group[0], group[3], dtype=np.int32)
        for group in groups
    ]
