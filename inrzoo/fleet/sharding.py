"""Deterministic shards of a manifest, for job arrays (SLURM ``--array``, Kubernetes indexed jobs).

``--shard I/N`` counts I from 0, as ``SLURM_ARRAY_TASK_ID`` (with ``--array=0-(N-1)``) and Kubernetes'
``JOB_COMPLETION_INDEX`` do. Video k of the manifest (counting from 0) belongs to shard ``k mod N``: the
same manifest file gives the same shards on every machine, and neighbouring lines (often similar lengths)
spread over all shards.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from inrzoo.errors import InrzooError

T = TypeVar("T")
_FORM = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
_EXAMPLE = "e.g. --shard 0/4 ... --shard 3/4 (sbatch --array=0-3 with --shard $SLURM_ARRAY_TASK_ID/4)"


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (``index`` in 0..count-1)."""

    index: int = 0
    count: int = 1

    def select(self, items: Sequence[T]) -> list[T]:
        """The items of this shard, in manifest order."""
        return [item for k, item in enumerate(items) if k % self.count == self.index]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"I/N"`` -> Shard, or one line naming the fix."""
    found = _FORM.fullmatch(text)
    if found is None:
        raise InrzooError(f"--shard {text!r}: expected I/N with whole numbers, I from 0 to N-1 ({_EXAMPLE})")
    index, count = int(found.group(1)), int(found.group(2))
    if count < 1:
        raise InrzooError(f"--shard {text}: N is the number of shards and must be at least 1 ({_EXAMPLE})")
    if index == count:
        raise InrzooError(
            f"--shard {text}: shards count from 0, so I runs from 0 to {count - 1} "
            f"(sbatch --array=0-{count - 1}, not 1-{count})"
        )
    if index > count:
        raise InrzooError(f"--shard {text}: I must be below N (0 to {count - 1}) ({_EXAMPLE})")
    return Shard(index, count)
