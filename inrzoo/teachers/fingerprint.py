"""Content fingerprints of weights, so cached teacher features follow the weights, not just a name."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch import nn


def fingerprint_module(module: nn.Module) -> str:
    """sha256 over every tensor of the state dict (names, shapes, dtypes, bytes)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(dtype=torch.uint8).numpy())
    return digest.hexdigest()[:24]


def fingerprint_file(path: str | Path) -> str:
    """Path, size and mtime of a weights file: cheap, and changes whenever the file is replaced."""
    path = Path(path)
    stat = path.stat()
    return hashlib.sha256(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:24]
