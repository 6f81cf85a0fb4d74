"""Turn jsonargparse's nested, multi-line parse errors into one line that names the fix."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonargparse import ArgumentParser

_NOISE = (
    "Does not validate against any of the Union subtypes",
    "Subtypes:",
    "Errors:",
    "Given value",
    "- Expected a <class 'NoneType'>",
)
_PLUGIN_KEYS = {"backbone": "backbone", "hypernet": "hypernet", "teacher": "teacher", "task": "task"}


def _known_plugins(kind: str) -> str:
    from inrzoo.registry import all_registries

    registry = all_registries()[kind]
    return ", ".join(f"{info.target.__name__} ({info.name})" for info in registry.entries()) or "none"


def _arg_naming(option: str, argv: Sequence[str]) -> str | None:
    """The command-line argument that set ``option`` (jsonargparse's nested errors drop the key)."""
    for arg in argv:
        key = arg.split("=", 1)[0]
        if key.startswith("--") and key.rsplit(".", 1)[-1] == option:
            return key[2:]
    return None


def condense_parser_error(message: str, argv: Sequence[str] = (), help_command: str = "inrzoo fit --help") -> str:
    """One line: the dotted config key, the innermost problem, and what to do (``help_command`` lists the keys)."""
    keys: list[str] = []
    class_path: str | None = None
    details: list[str] = []
    for raw in message.splitlines():
        line = raw.strip()
        if not line or line.startswith(_NOISE):
            continue
        key = re.match(r'Parser key "([^"]+)":?\s*(.*)', line)
        if key:
            keys.append(key.group(1))
            details = [key.group(2)] if key.group(2) else []
            continue
        problem = re.match(r"-?\s*Problem with given class_path '([^']+)'", line)
        if problem:
            class_path = problem.group(1)
            continue
        details.append(line.lstrip("- ").strip())
    if not keys:
        first = message.strip().splitlines()[0] if message.strip() else "invalid arguments"
        option = re.match(r"Option '([^']+)' is not accepted", first)
        full_key = _arg_naming(option.group(1), argv) if option else None
        if full_key:
            return f"config key {full_key} does not exist (run `{help_command}` to see the keys that exist)"
        return f"{first} (run `{help_command}` to see the keys that exist)"
    dotted = ".".join(keys)
    preferred = [d for d in details if "not accepted" in d or "import path" in d or "not found" in d]
    detail = (preferred or details or ["invalid value"])[0]
    leaf = keys[-1]
    import_problem = any("import path" in d or "not accessible" in d or "subclass" in d for d in details)
    if leaf in _PLUGIN_KEYS and import_problem:
        value = next((d.split(":", 1)[1].strip() for d in details if "import path string:" in d), "?")
        return (
            f"config key {dotted}: {value!r} is not a known {leaf}; known: {_known_plugins(_PLUGIN_KEYS[leaf])} "
            "(use the class name or its full import path as class_path)"
        )
    where = f" ({class_path})" if class_path and "not accepted" in detail else ""
    return f"config key {dotted}{where}: {detail} (run `{help_command}` to see the keys that exist)"


def one_line_parser(prog: str, description: str, argv: Sequence[str], **kwargs: Any) -> ArgumentParser:
    """A jsonargparse parser for one of inrzoo's own commands whose errors are one line and exit code 2."""
    from jsonargparse import ArgumentParser

    class OneLineErrors(ArgumentParser):
        def error(self, message: str, ex: Exception | None = None):  # noqa: ANN201 - NoReturn
            if os.environ.get("INRZOO_DEBUG"):
                print(message, file=sys.stderr)
            print(f"inrzoo: error: {condense_parser_error(message, argv, f'{prog} --help')}", file=sys.stderr)
            raise SystemExit(2)

    return OneLineErrors(prog=prog, description=description, default_config_files=[], **kwargs)
