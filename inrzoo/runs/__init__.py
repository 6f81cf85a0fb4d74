"""Fitted runs: open a run folder, a checkpoint or a ``.inrz`` file once (:class:`FittedRun`), decode it
(:func:`decode_uint8`, the one batched uint8 decode), compress it, index a corpus of them."""

from inrzoo.runs.compress import compress_run
from inrzoo.runs.decoding import decode_uint8, iter_decode_uint8, to_uint8
from inrzoo.runs.fitted import FALLBACK_FPS, FittedRun, public_config
from inrzoo.runs.index import build_index

__all__ = [
    "FALLBACK_FPS",
    "FittedRun",
    "build_index",
    "compress_run",
    "decode_uint8",
    "iter_decode_uint8",
    "public_config",
    "to_uint8",
]
