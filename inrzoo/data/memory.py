"""Keep a long pass over large frames from growing the process: freed frame buffers go back to the OS.

glibc's malloc raises its mmap threshold (up to 32 MB) after large blocks are freed, then serves blocks of
that size from its per-thread arenas and keeps them: a pass over 1080p frames (25 MB as floats) grew the
resident memory by ~50 MB a frame although every tensor was freed. Fixing the threshold at 4 MB keeps such
blocks mmapped, so each free returns them. Done once, only when frames are large (small frames keep the
default, whose reuse is faster for a training loop's many mid-sized tensors).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

#: Frames with more pixels than this (about 720p) switch the allocator to :data:`MMAP_THRESHOLD`.
LARGE_FRAME_PIXELS = 1280 * 720
MMAP_THRESHOLD = 4 * 1024 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
_done = False


def bound_allocator_for(frame_size: tuple[int, int]) -> None:
    """For frames over :data:`LARGE_FRAME_PIXELS`: glibc mallocs of 4 MB or more are mmapped (freed at once).
    A no-op elsewhere (not glibc, or small frames), and after the first call."""
    global _done
    if _done or frame_size[0] * frame_size[1] <= LARGE_FRAME_PIXELS or not sys.platform.startswith("linux"):
        return
    _done = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):  # musl or another libc: nothing to tune
        pass
