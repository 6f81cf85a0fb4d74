"""Compression: a fitted video as one .inrz file (quantised, entropy-coded, checksummed),
decoded from that file alone."""

from inrzoo.compression.bitstream import FORMAT_VERSION, Bitstream, BitstreamError
from inrzoo.compression.codec import CompressionSettings, decode_model, encode_model, quantized_state
from inrzoo.compression.pipeline import compress_run, decode_frames
from inrzoo.compression.quantize import QuantizedTensor, best_quantization, prune_smallest, quantize

__all__ = [
    "FORMAT_VERSION",
    "Bitstream",
    "BitstreamError",
    "CompressionSettings",
    "QuantizedTensor",
    "best_quantization",
    "compress_run",
    "decode_frames",
    "decode_model",
    "encode_model",
    "prune_smallest",
    "quantize",
    "quantized_state",
]
