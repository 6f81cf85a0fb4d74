"""Classical baselines an INR has to beat, run in the same benchmark as the INR."""

from inrzoo.baselines.codecs import CODEC_CONTAINERS, CodecResult, encode_with_ffmpeg, require_ffmpeg

__all__ = ["CODEC_CONTAINERS", "CodecResult", "encode_with_ffmpeg", "require_ffmpeg"]
