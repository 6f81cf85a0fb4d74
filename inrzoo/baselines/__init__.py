"""Classical baselines an INR has to beat, run in the same benchmark as the INR."""

from inrzoo.baselines.codecs import (
    CODEC_CONTAINERS,
    CodecResult,
    decode_video,
    encode_with_ffmpeg,
    ffmpeg_version,
    require_ffmpeg,
    score_frames,
)
from inrzoo.baselines.frames import minterpolate, neighbour_average, upscale_bicubic, upscale_lanczos

__all__ = [
    "CODEC_CONTAINERS",
    "CodecResult",
    "decode_video",
    "encode_with_ffmpeg",
    "ffmpeg_version",
    "minterpolate",
    "neighbour_average",
    "require_ffmpeg",
    "score_frames",
    "upscale_bicubic",
    "upscale_lanczos",
]
