"""Compression: a fitted video as one .inrz file (quantised, entropy-coded, checksummed),
decoded from that file alone (model <-> bytes; compressing a run on disk is :func:`inrzoo.runs.compress_run`)."""

import warnings
from typing import Any

from inrzoo.compression.bitstream import FORMAT_VERSION, Bitstream, BitstreamError
from inrzoo.compression.codec import CompressionSettings, decode_model, encode_model, quantized_state
from inrzoo.compression.qat import QuantizationAwareTraining, quality_stage
from inrzoo.compression.quantize import QuantizedTensor, best_quantization, prune_smallest, quantize

__all__ = [
    "FORMAT_VERSION",
    "Bitstream",
    "BitstreamError",
    "CompressionSettings",
    "QuantizationAwareTraining",
    "QuantizedTensor",
    "best_quantization",
    "decode_model",
    "encode_model",
    "prune_smallest",
    "quantize",
    "quality_stage",
    "quantized_state",
]


def __getattr__(name: str) -> Any:
    """``compress_run`` and ``decode_frames`` moved to :mod:`inrzoo.runs` (deprecated aliases, removed in 0.3)."""
    if name in {"compress_run", "decode_frames"}:
        from inrzoo import runs

        new = {"compress_run": "compress_run", "decode_frames": "decode_uint8"}[name]
        message = f"inrzoo.compression.{name} is deprecated: use inrzoo.runs.{new}"
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return getattr(runs, new)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
