"""Decoded frames on disk: one uint8 file read frame by frame, so memory follows the working set.

Layout: an 8-byte magic, a little-endian uint32 header length, a JSON header (shape and what the decode
found), zero padding to 4 KiB, then the frames as uint8 (T, 3, H, W), C order. A store is written under a
temporary name and renamed into place when complete, so a reader never sees half a file. Frames are read
with ``os.pread`` rather than a memory map: a full pass over a long video then leaves nothing resident in
the process (the page cache holds it, reclaimable), where touched mmap pages would count as its memory.
"""

from __future__ import annotations

import json
import os
import struct
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from inrzoo.errors import InrzooError

MAGIC = b"INRZFRM1"
DATA_OFFSET = 4096


class FrameStore:
    """uint8 (T, 3, H, W) frames in a file, indexed like a tensor: ``store[i]``, ``store[a:b]``,
    ``store[[i, j]]``, ``store[tensor]`` return tensors read on demand; ``len``/``shape``/``dtype`` as a
    tensor's. Torch functions given a store (``torch.equal(store, x)``) read all of it: fine for short clips,
    index in chunks for long ones."""

    dtype = torch.uint8

    def __init__(self, path: str | Path, delete_on_close: bool = False) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDONLY)
        try:
            self.meta = _read_header(self._fd, self.path)
        except Exception:
            os.close(self._fd)
            raise
        t, c, h, w = self.meta["shape"]
        self.shape = torch.Size((t, c, h, w))
        self._frame_bytes = c * h * w
        if os.fstat(self._fd).st_size < DATA_OFFSET + t * self._frame_bytes:
            os.close(self._fd)
            raise ValueError(f"{self.path} is shorter than its header says")
        self._finalizer = weakref.finalize(self, _close, self._fd, self.path if delete_on_close else None)

    # -- tensor-like -------------------------------------------------------------------
    def __len__(self) -> int:
        return self.shape[0]

    def size(self, dim: int | None = None) -> torch.Size | int:
        return self.shape if dim is None else self.shape[dim]

    @property
    def ndim(self) -> int:
        return 4

    def dim(self) -> int:
        return 4

    def __getitem__(self, key: Any) -> Tensor:
        rest: tuple = ()
        if isinstance(key, tuple):
            key, rest = (key[0], key[1:]) if key and key[0] is not Ellipsis else (slice(None), key)
        if isinstance(key, int):
            frames = self._read(self._indices([key]))[0]
        else:
            frames = self._read(self._indices(key))
        return frames[rest] if rest else frames

    def tensor(self) -> Tensor:
        """Every frame in memory (short clips; for long ones, index in chunks)."""
        return self[:]

    def float(self) -> Tensor:
        return self.tensor().float()

    def chunks(self, size: int = 16) -> Any:
        """(start, uint8 (n <= size, 3, H, W)) over the video, ``size`` frames at a time."""
        for start in range(0, len(self), size):
            yield start, self[start : start + size]

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        def unwrap(value: Any) -> Any:
            if isinstance(value, FrameStore):
                return value.tensor()
            if isinstance(value, list | tuple):
                return type(value)(unwrap(v) for v in value)
            return value

        return func(*unwrap(args), **{k: unwrap(v) for k, v in (kwargs or {}).items()})

    def __repr__(self) -> str:
        return f"FrameStore({str(self.path)!r}, shape={tuple(self.shape)})"

    # -- pickling (DataLoader workers reopen the file) ---------------------------------
    def __reduce__(self) -> tuple:
        return (FrameStore, (self.path,))

    # -- reading -----------------------------------------------------------------------
    def _indices(self, key: Any) -> Tensor:
        count = len(self)
        if isinstance(key, slice):
            return torch.arange(count)[key]
        indices = torch.as_tensor(key)
        if indices.dtype == torch.bool:
            return torch.nonzero(indices.flatten()).flatten()
        indices = indices.long().flatten()
        if indices.numel() and (indices.min() < -count or indices.max() >= count):
            raise IndexError(f"frame index out of range for {count} frames")
        return torch.where(indices < 0, indices + count, indices)

    def _read(self, indices: Tensor) -> Tensor:
        """Frames ``indices`` (N,), reading each run of consecutive frames with one pread."""
        out = torch.empty((indices.numel(), *self.shape[1:]), dtype=torch.uint8)
        flat = out.view(indices.numel(), -1).numpy()
        wanted = indices.tolist()
        position = 0
        while position < len(wanted):
            end = position + 1
            while end < len(wanted) and wanted[end] == wanted[end - 1] + 1:
                end += 1
            offset = DATA_OFFSET + wanted[position] * self._frame_bytes
            data = os.pread(self._fd, (end - position) * self._frame_bytes, offset)
            if len(data) != (end - position) * self._frame_bytes:
                raise InrzooError(f"{self.path} was cut short while in use; run again to decode the video anew")
            flat[position:end] = np.frombuffer(data, dtype=np.uint8).reshape(end - position, -1)
            position = end
        return out


def _close(fd: int, delete: Path | None) -> None:
    os.close(fd)
    if delete is not None:
        delete.unlink(missing_ok=True)


def _read_header(fd: int, path: Path) -> dict[str, Any]:
    head = os.pread(fd, DATA_OFFSET, 0)
    if len(head) < 12 or head[:8] != MAGIC:
        raise ValueError(f"{path} is not an inrzoo frame store")
    (length,) = struct.unpack("<I", head[8:12])
    if 12 + length > DATA_OFFSET:
        raise ValueError(f"{path} has a damaged header")
    return json.loads(head[12 : 12 + length].decode())


class FrameStoreWriter:
    """Appends uint8 (n, 3, H, W) chunks to ``<path>.tmp<pid>``; :meth:`commit` writes the header and renames
    the file into place (atomic); :meth:`abort` (or an exception inside ``with``) removes it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(f"{self.path.name}.tmp{os.getpid()}")
        self.count = 0
        self.frame_shape: tuple[int, int, int] | None = None
        self._file = open(self.tmp, "wb")  # noqa: SIM115 - closed by commit/abort
        self._file.write(b"\0" * DATA_OFFSET)

    def append(self, frames: Tensor) -> None:
        shape = tuple(frames.shape[1:])
        if self.frame_shape is None:
            self.frame_shape = shape
        elif shape != self.frame_shape:
            raise ValueError(f"frames of shape {shape} after frames of shape {self.frame_shape}")
        self._file.write(frames.to(torch.uint8).contiguous().numpy().tobytes())
        self.count += frames.shape[0]

    def commit(self, meta: dict[str, Any]) -> Path:
        header = json.dumps({**meta, "shape": [self.count, *(self.frame_shape or (3, 0, 0))]}).encode()
        if 12 + len(header) > DATA_OFFSET:
            raise ValueError("frame store header too long")
        self._file.seek(0)
        self._file.write(MAGIC + struct.pack("<I", len(header)) + header)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> FrameStoreWriter:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is not None or not self._file.closed:
            self.abort()
