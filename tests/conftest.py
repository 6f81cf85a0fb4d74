"""Shared fixtures: a tiny synthetic clip, broken inputs, and an isolated frame cache."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import lightning.pytorch  # noqa: F401 - see below
import pytest
import torch
from helpers import encode_clip, synthetic_frames

# Lightning binds a logging handler to sys.stderr on import; imported inside a test that
# uses capsys, it would keep writing to that test's closed stream ("Logging error").


@pytest.fixture(scope="session")
def clip_frames() -> torch.Tensor:
    return synthetic_frames()


@pytest.fixture(scope="session")
def _session_clip(tmp_path_factory: pytest.TempPathFactory, clip_frames: torch.Tensor) -> Path:
    return encode_clip(clip_frames, tmp_path_factory.mktemp("clip") / "moving_shapes.mp4")


@pytest.fixture
def clip_path(_session_clip: Path, tmp_path: Path) -> Path:
    """A private copy of the 12-frame 40x60 clip (tests may touch or rewrite it)."""
    return Path(shutil.copy2(_session_clip, tmp_path / "moving_shapes.mp4"))


@pytest.fixture(scope="session")
def shared_clip_path(_session_clip: Path) -> Path:
    """The session's clip, read-only by convention (for module-scoped fixtures)."""
    return _session_clip


@pytest.fixture
def empty_file(tmp_path: Path) -> Path:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    return path


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video, despite the name\n")
    return path


@pytest.fixture
def audio_only_file(tmp_path: Path) -> Path:
    """An mp4 container with zero video frames (one audio stream only)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("needs the ffmpeg binary to make an audio-only file")
    path = tmp_path / "silence.mp4"
    command = [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "0.2", "-c:a", "aac"]
    subprocess.run([*command, str(path)], check=True, timeout=60)
    return path


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test decodes into its own cache, never ~/.cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("INRZOO_CACHE_DIR", str(cache))
    return cache / "frames"


@pytest.fixture
def no_plugin_autoload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INRZOO_DISABLE_PLUGIN_AUTOLOAD", "1")


def pytest_configure(config: pytest.Config) -> None:
    # The CLI is called in-process under pytest's own argv; Lightning warns about that.
    config.addinivalue_line("filterwarnings", "ignore:LightningCLI's args parameter is intended:UserWarning")
    config.addinivalue_line("filterwarnings", "ignore:.*isinstance\\(treespec, LeafSpec\\).*")
    # predict/test from a fit's config.yaml restore its ModelCheckpoint into a new run folder.
    config.addinivalue_line("filterwarnings", "ignore:The dirpath has changed from")


# Tiny tensors gain nothing from a second thread, and on a busy 2-core machine two
# spinning threads per process can make a fit 20x slower.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The name of a tiny random-weight CLIP registered with open_clip (no download ever)."""
    from inrzoo.testing.teachers import register_tiny_open_clip

    return register_tiny_open_clip(tmp_path_factory.mktemp("open_clip_configs"))
