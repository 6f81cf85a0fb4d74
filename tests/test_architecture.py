"""The shape of the code: deprecated aliases of moved modules (and, below, the import-layer contract)."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT

# old module -> (a name it served, the module that now holds it, that name there)
MOVED = {
    "inrzoo.cli_errors": ("one_line_parser", "inrzoo.cli.parsing", "one_line_parser"),
    "inrzoo.compression.command": ("parse_frames", "inrzoo.cli.decompress", "parse_frames"),
    "inrzoo.tasks.command": ("upscaled_size", "inrzoo.cli.task_heads", "upscaled_size"),
    "inrzoo.retrieval.command": ("retrieve_main", "inrzoo.cli.retrieve", "main"),
    "inrzoo.fleet.command": ("fit_many_main", "inrzoo.cli.fit_many", "main"),
    "inrzoo.bench.command": ("parse_bench_args", "inrzoo.cli.bench", "parse_bench_args"),
    "inrzoo.tasks.runs": ("to_uint8", "inrzoo.runs", "to_uint8"),
    "inrzoo.tasks.baselines": ("neighbour_average", "inrzoo.baselines.frames", "neighbour_average"),
}
# names that moved out of a module that stays: (module, name) -> (the module that now holds it, its name there)
MOVED_NAMES = {
    ("inrzoo.compression", "compress_run"): ("inrzoo.runs", "compress_run"),
    ("inrzoo.compression", "decode_frames"): ("inrzoo.runs", "decode_uint8"),
    ("inrzoo.retrieval", "build_index"): ("inrzoo.runs", "build_index"),
    ("inrzoo.models.loading", "FittedModel"): ("inrzoo.runs", "FittedRun"),
}


@pytest.mark.parametrize("old", list(MOVED))
def test_a_moved_module_is_a_deprecated_alias(old: str) -> None:
    name, new, new_name = MOVED[old]
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=old.replace(".", r"\.")):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), new_name)


@pytest.mark.parametrize("old", list(MOVED_NAMES), ids=[".".join(k) for k in MOVED_NAMES])
def test_a_moved_name_is_a_deprecated_alias(old: tuple[str, str]) -> None:
    module, name = old
    new, new_name = MOVED_NAMES[old]
    with pytest.warns(DeprecationWarning, match=f"{module}.{name}".replace(".", r"\.")):
        found = getattr(importlib.import_module(module), name)
    assert found is getattr(importlib.import_module(new), new_name)
    assert not hasattr(importlib.import_module(module), "no_such_name")


# -- layers ----------------------------------------------------------------------------------------
def test_the_import_contracts_hold() -> None:
    """import-linter over inrzoo/: the layers of pyproject.toml (imports only go down) and no import cycles."""
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "lint-imports is missing: pip install -e '.[test]' (import-linter)"
    done = subprocess.run([lint, "--no-cache", "--no-logo"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for contract in ("layers KEPT", "no import cycles KEPT"):
        assert contract in done.stdout, f"{contract!r} not reported: was a contract removed?\n{done.stdout}"
