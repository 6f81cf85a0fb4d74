"""Where a benchmark ran: hardware, library versions and the code's git commit, stored with every result."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import torch


def hardware(accelerator: str = "cpu") -> dict[str, Any]:
    cpu = platform.processor() or None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "accelerator": accelerator,
    }
    if accelerator == "gpu" and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


def versions() -> dict[str, str]:
    import lightning

    import inrzoo

    return {"inrzoo": inrzoo.__version__, "torch": torch.__version__, "lightning": lightning.__version__}


def git_commit() -> tuple[str | None, bool | None]:
    """HEAD of the checkout inrzoo runs from, and whether the work tree differs (None outside a checkout)."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return head.stdout.strip(), bool(status.stdout.strip())


def provenance(accelerator: str = "cpu") -> dict[str, Any]:
    """What every benchmark record carries: hardware, library versions, and the code's commit."""
    commit, dirty = git_commit()
    return {"hardware": hardware(accelerator), "versions": versions(), "git_commit": commit, "git_dirty": dirty}
