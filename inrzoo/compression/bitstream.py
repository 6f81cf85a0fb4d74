"""The ``.inrz`` file: everything needed to decode a video, and nothing else.

Layout (little endian)::

    b"INRZ" | u16 format version | u32 header bytes | zlib(JSON header) | payload | u32 CRC-32

The header holds the model config (class paths + arguments), the video's geometry and frame
rate, and per tensor: shape, quantisation (bits, axis), entropy model and where its bytes lie
in the payload. The CRC covers every byte before it, so a truncated or altered file is
refused instead of decoding to garbage.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inrzoo.errors import InrzooError
from inrzoo.stored_config import check_stored_config

MAGIC = b"INRZ"
#: 2 (0.2): rate-coded tensors (``kind: "rate"``, one Laplace-coded stream for all, see :mod:`inrzoo.models.rate`).
#: 3: latents coded across time (``kind: "temporal"``, one chunk per GOP, see :mod:`inrzoo.compression.temporal`).
#: A file is written at the oldest format that holds what it uses (without temporal latents: 2), so older
#: readers still read it; files of formats 1 and 2 still decode: nothing of theirs changed meaning.
FORMAT_VERSION = 3


def written_version(header: dict[str, Any]) -> int:
    """The oldest format a header fits in."""
    return 3 if any(entry.get("kind") == "temporal" for entry in header.get("tensors", [])) else 2


_PREFIX = struct.Struct("<4sHI")  # magic, version, header length
_CRC = struct.Struct("<I")


class BitstreamError(InrzooError):
    """A file that is not a readable inrzoo bitstream (foreign, truncated, corrupted, too new)."""


def check_model_config(header: object, source: str) -> None:
    """Refuse a header whose model config names an unregistered class, before anything imports it."""
    from inrzoo.models.video_inr import VideoINR  # registers the built-in plugins the config may name

    model = header.get("model") if isinstance(header, dict) else None
    if model is not None:  # none at all fails later, as a bitstream without a model
        check_stored_config(model, VideoINR, f"bitstream {source}", "model")


@dataclass
class Bitstream:
    header: dict[str, Any]
    payload: bytes

    def to_bytes(self) -> bytes:
        header = zlib.compress(json.dumps(self.header, separators=(",", ":")).encode(), level=9)
        body = _PREFIX.pack(MAGIC, written_version(self.header), len(header)) + header + self.payload
        return body + _CRC.pack(zlib.crc32(body))

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "file") -> Bitstream:
        if len(data) < _PREFIX.size + _CRC.size:
            raise BitstreamError(
                f"{source} is too short to be an inrzoo bitstream ({len(data)} bytes); is it truncated?"
            )
        magic, version, header_length = _PREFIX.unpack_from(data)
        if magic != MAGIC:
            raise BitstreamError(f"{source} is not an inrzoo bitstream (it starts {magic!r}, not {MAGIC!r})")
        if version > FORMAT_VERSION:
            raise BitstreamError(
                f"{source} uses bitstream format {version}, written by a newer inrzoo; this one reads format "
                f"{FORMAT_VERSION}: upgrade inrzoo (a release reading format {version} or later)"
            )
        (stored_crc,) = _CRC.unpack_from(data, len(data) - _CRC.size)
        if zlib.crc32(data[: -_CRC.size]) != stored_crc:
            raise BitstreamError(f"{source} fails its checksum: the file is truncated or corrupted; re-create it")
        start = _PREFIX.size
        try:
            header = json.loads(zlib.decompress(data[start : start + header_length]))
        except (zlib.error, ValueError) as err:
            raise BitstreamError(f"{source} has an unreadable header ({err}); re-create it") from err
        check_model_config(header, source)
        return cls(header, data[start + header_length : -_CRC.size])

    def write(self, path: str | Path) -> int:
        data = self.to_bytes()
        Path(path).write_bytes(data)
        return len(data)

    @classmethod
    def read(cls, path: str | Path) -> Bitstream:
        path = Path(path)
        if not path.is_file():
            raise InrzooError(f"bitstream {path} does not exist; give a .inrz file written by `inrzoo compress`")
        return cls.from_bytes(path.read_bytes(), source=str(path))


def recorded_video(stream: Bitstream, source: str | Path) -> dict[str, Any]:
    """The geometry and frame rate a file records (``source`` names the file in the error)."""
    video = stream.header.get("video")
    if not isinstance(video, dict) or not isinstance(video.get("num_frames"), int):
        raise BitstreamError(f"{source} records no video geometry: the file is corrupted; re-create it")
    return video
