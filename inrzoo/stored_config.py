"""Stored configs are data, not code: the allow-list a ``.inrz``, checkpoint or index config must pass.

A config stored in a file names classes (``class_path``, or a plain string where a class is expected),
and jsonargparse imports a named module *before* it checks that the class is the right kind: opening
a crafted file would run that module's import-time code. :func:`check_stored_config` walks a stored
config first and refuses any class that is not registered (a plugin of a published registry, built-in
or from an entry point) or trusted (:func:`trust_stored_class`: the model and the classes inrzoo
itself writes). A name is resolved only against modules already imported, never by importing one: a
registered class's module is imported by the act of registering it.
"""

from __future__ import annotations

import collections.abc
import enum
import inspect
import os
import re
import sys
import types
import typing
from pathlib import PurePath
from typing import Any, TypeVar

from inrzoo.errors import InrzooError
from inrzoo.registry import all_registries

C = TypeVar("C", bound=type)

#: Classes a stored config may name besides the registered plugins (the model and what it is built from).
_TRUSTED: set[type] = set()
#: What jsonargparse could read as an import path: dotted identifiers ("pkg.module.Class" or a bare "Class").
_IMPORT_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
#: The keys of a class spec that are not arguments (walked on their own).
_SPEC_KEYS = frozenset({"class_path", "init_args", "dict_kwargs"})
#: Values of these types never make jsonargparse import anything.
_PLAIN = (str, bytes, int, float, bool, complex, type(None), os.PathLike, PurePath, enum.Enum)


class UntrustedConfigError(InrzooError):
    """A stored config names a class that is neither registered nor trusted (it was not imported)."""


def trust_stored_class(cls: C) -> C:
    """Class decorator: stored configs may name ``cls`` (for classes inrzoo writes that no registry holds)."""
    _TRUSTED.add(cls)
    return cls


def trusted_classes() -> set[type]:
    """The trusted classes plus every class registered so far (entry-point plugins are discovered here)."""
    classes = set(_TRUSTED)
    for registry in all_registries().values():
        classes.update(info.target for info in registry.entries() if isinstance(info.target, type))
    return classes


def resolve_loaded(path: str, trusted: set[type]) -> object | None:
    """What ``path`` names among the modules already imported (None if nothing), importing nothing.

    A bare name (jsonargparse's short class names) matches a trusted class of that name. Module
    ``__getattr__`` hooks are not run: only what a module really holds counts.
    """
    if "." not in path:
        found = [cls for cls in trusted if cls.__name__ == path]
        return found[0] if len(found) == 1 else None
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:split]))
        if module is None:
            continue
        target: object = module
        for name in parts[split:]:
            namespace = vars(target) if isinstance(target, (types.ModuleType, type)) else {}
            if name not in namespace:
                return None
            target = namespace[name]
        return target
    return None


def check_stored_config(config: object, expected: object, source: str, where: str = "config") -> None:
    """Refuse ``config`` (read from ``source``) if it names a class that is not registered or trusted.

    ``expected`` is the type the config will be built as (``VideoINR`` for a model's hyperparameters,
    ``Teacher`` for an index's teacher). Raises :class:`UntrustedConfigError`, one line; nothing named
    in the config has been imported when it does.
    """
    _Walker(trusted_classes(), source).value(config, expected, where)


class _Walker:
    """One walk over a stored config, against the hints of the classes it names."""

    def __init__(self, trusted: set[type], source: str) -> None:
        self.trusted = trusted
        self.source = source

    def refuse(self, path: str, where: str) -> typing.NoReturn:
        raise UntrustedConfigError(
            f"{self.source}: its stored config names {path!r} (at {where}), which is not a registered inrzoo plugin; "
            "refused before importing it: install the plugin package that registers it, or open only files you trust"
        )

    def trusted_class(self, path: object, where: str) -> type:
        if not isinstance(path, str):
            self.refuse(repr(path), where)
        target = resolve_loaded(path, self.trusted)
        if not isinstance(target, type) or target not in self.trusted:
            self.refuse(path, where)
        return target

    def value(self, value: object, hint: object, where: str) -> None:
        if isinstance(value, dict):
            keys = [key for key in ("class_path", "_class_path") if key in value]
            if keys:
                cls = [self.trusted_class(value[key], f"{where}.{key}") for key in keys][0]
                # Its arguments: under init_args/dict_kwargs, or beside the class path (Lightning's flat form).
                for part in (value, value.get("init_args"), value.get("dict_kwargs")):
                    if isinstance(part, dict):
                        self.arguments(part, cls, where)
                return
            concrete = self.concrete_class(hint)
            if concrete is not None:  # init args of a concrete class (``alignment: {teacher: ...}``)
                self.arguments(value, concrete, where)
                return
            for key, item in value.items():
                self.value(item, _values_hint(hint), f"{where}.{key}")
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                self.value(item, _values_hint(hint), f"{where}[{i}]")
        elif isinstance(value, str) and _accepts_class(hint) and _IMPORT_PATH.fullmatch(value):
            self.trusted_class(value, where)

    def arguments(self, arguments: dict[str, Any], cls: type, where: str) -> None:
        hints = _init_hints(cls)
        for key, item in arguments.items():
            if key.startswith("_") or key in _SPEC_KEYS:  # Lightning checks its _instantiator itself
                continue
            self.value(item, hints.get(key, Any) if hints is not None else object, f"{where}.{key}")

    def concrete_class(self, hint: object) -> type | None:
        """The one trusted class a hint allows (``Alignment | None`` -> Alignment), else None."""
        options = [a for a in _union_args(hint) if a is not type(None)]
        if len(options) == 1 and isinstance(options[0], type) and options[0] in self.trusted:
            return options[0]
        return None


def _union_args(hint: object) -> tuple[object, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _values_hint(hint: object) -> object:
    """The hint of a container's items (``list[Teacher]`` -> Teacher); a class or a Literal stays itself."""
    items: list[object] = []
    for option in _union_args(hint):
        origin = typing.get_origin(option)
        if origin is None or origin in (typing.Literal, type, collections.abc.Callable):
            items.append(option)
        else:
            items += [a for a in typing.get_args(option) if a is not Ellipsis]
    return typing.Union[tuple(items)] if items else Any  # noqa: UP007 - built from a runtime tuple


def _accepts_class(hint: object) -> bool:
    """Whether jsonargparse could read a string in a slot of this hint as an import path (and import it)."""
    if hint is Any or hint is inspect.Parameter.empty:
        return False  # jsonargparse keeps a string under Any as it is
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return False
    if origin in (typing.Union, types.UnionType):
        return any(_accepts_class(a) for a in typing.get_args(hint))
    if origin is type or origin is collections.abc.Callable or hint is collections.abc.Callable:
        return True
    if origin is not None:  # a container: what its items accept
        return any(_accepts_class(a) for a in typing.get_args(hint) if a is not Ellipsis)
    if isinstance(hint, type):
        return not issubclass(hint, _PLAIN)
    return True  # a TypeVar, an unresolved forward reference, ...: assume the worst


def _init_hints(cls: type) -> dict[str, object] | None:
    """The constructor's parameter hints; one that cannot be resolved counts as accepting a class
    (None: the constructor cannot be inspected, so every argument does)."""
    try:
        return typing.get_type_hints(cls.__init__)
    except Exception:  # a forward reference to a name the module imports only for type checking
        try:
            return {name: object for name in inspect.signature(cls.__init__).parameters}
        except (TypeError, ValueError):
            return None
