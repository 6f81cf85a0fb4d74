"""Check a parsed ``inrzoo fit`` config against the classes' option ranges before anything is built.

The constructors check the same ranges (``inrzoo.options``), but only the config knows where a value sits:
here a bad value is named by its whole key (``model.init_args.backbone.init_args.channels``), and it is
refused before the video is probed or a run folder is made.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from collections.abc import Mapping
from typing import Any

from inrzoo.options import check_options, option_ranges


def _loaded_class(class_path: object) -> type | None:
    """The class a (resolved) ``class_path`` names, only if the parser already imported it: this check
    never imports anything a config names."""
    if not isinstance(class_path, str) or "." not in class_path:
        return None
    module, _, name = class_path.rpartition(".")
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) else None


def _dataclass_arguments(cls: type) -> dict[str, type]:
    """Constructor arguments typed as a dataclass with ranges (``loss: ReconstructionLoss | None``): the
    parser keeps those as plain nested groups, with no ``class_path`` to find their class by."""
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # an annotation that does not resolve: its arguments are checked when built
        return {}
    found = {}
    for name, hint in hints.items():
        for candidate in typing.get_args(hint) or (hint,):
            if isinstance(candidate, type) and dataclasses.is_dataclass(candidate) and option_ranges(candidate):
                found[name] = candidate
    return found


def _check_class(cls: type, values: Mapping[str, Any], prefix: str) -> None:
    check_options(cls, values, name=lambda key: f"config key {prefix}{key}")
    for name, nested in _dataclass_arguments(cls).items():
        value = values.get(name)
        if isinstance(value, Mapping) and "class_path" not in value:
            _check_class(nested, value, f"{prefix}{name}.")


def _walk(node: Any, path: str) -> None:
    if isinstance(node, Mapping):
        cls = _loaded_class(node.get("class_path"))
        init_args = node.get("init_args")
        if cls is not None and isinstance(init_args, Mapping):
            _check_class(cls, init_args, f"{path}.init_args." if path else "init_args.")
        for key, value in node.items():
            _walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            _walk(value, f"{path}[{index}]")


def check_config_ranges(config: Mapping[str, Any], groups: Mapping[str, type]) -> None:
    """Every ``class_path`` + ``init_args`` in ``config`` (a subcommand's config as a dict) whose class is
    loaded, and the plain ``groups`` (config key -> class: ``{"divergence": DivergenceGuard}``); raises
    ``OptionError`` naming the whole key of the first value out of range."""
    for key, cls in groups.items():
        section = config.get(key)
        if isinstance(section, Mapping):
            _check_class(cls, section, f"{key}.")
    _walk(config, "")
