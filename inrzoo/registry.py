"""Named registries of plugins, with lazy entry-point discovery.

Each plugin kind (backbone, hypernetwork head, teacher, task, and the CLI's commands) has one
:class:`Registry`, made by the kind itself with ``publish=True`` so that :func:`all_registries`
sees it: this module knows no plugin kind (it is the ground floor; every kind imports it).
Built-ins register themselves with a decorator when their module is imported;
third-party packages declare an entry point in the kind's group and are loaded on the
first ``list``/``create``/``get`` call (never at ``import inrzoo``, which would make plugin
packages that import inrzoo circular).

Environment switches (read at discovery time):

* ``INRZOO_DISABLE_PLUGIN_AUTOLOAD=1`` skips entry-point discovery.
* ``INRZOO_STRICT_PLUGINS=1`` turns a plugin that fails to load into an error (CI sets it).
"""

from __future__ import annotations

import fnmatch
import importlib.metadata as importlib_metadata
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from inrzoo.errors import InrzooError, PluginLoadError, UnknownPluginError

T = TypeVar("T")

BUILTIN_SOURCE = "inrzoo"


@dataclass(frozen=True)
class PluginInfo:
    """Where a registered plugin came from, for ``inrzoo plugins``."""

    name: str
    kind: str
    target: Callable[..., Any]
    package: str
    version: str
    entry_point: str | None = None

    @property
    def qualname(self) -> str:
        own = getattr(self.target, "qualname", None)  # an instance entry (a command) names its own handler
        if isinstance(own, str):
            return own
        return f"{self.target.__module__}.{self.target.__qualname__}"


@dataclass(frozen=True)
class PluginFailure:
    """An entry point that could not be loaded, kept so it can be reported."""

    kind: str
    entry_point: str
    package: str
    error: str


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _inrzoo_version() -> str:
    from inrzoo import __version__

    return __version__


class Registry(Generic[T]):
    """A name -> factory table for one plugin kind.

    Args:
        kind: human name of the kind ("backbone"), used in messages.
        group: entry-point group third-party packages declare (``inrzoo.backbones``).
        base: the abstract base class every entry must subclass (the contract).
        instances: entries are instances of ``base`` (commands), not classes or factories.
        publish: list it in :func:`all_registries` (the one registry of its kind; what ``inrzoo plugins``
            shows and the CLI discovers). Tests make private registries with the default, False.
    """

    def __init__(self, kind: str, group: str, base: type, instances: bool = False, publish: bool = False) -> None:
        self.kind = kind
        self.group = group
        self.base = base
        self.instances = instances
        self._entries: dict[str, PluginInfo] = {}
        self._failures: list[PluginFailure] = []
        self._discovered = False
        if publish:
            existing = _PUBLISHED.get(kind)
            if existing is not None:
                raise PluginLoadError(
                    f"a {kind} registry (group {existing.group}) is already published; make one per kind"
                )
            _PUBLISHED[kind] = self

    # -- registration -------------------------------------------------------------
    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        """Class decorator: ``@register_backbone("siren")``."""

        def decorator(cls: type[T]) -> type[T]:
            self._add(name, cls, package=BUILTIN_SOURCE, version=_inrzoo_version())
            return cls

        return decorator

    def _add(
        self,
        name: str,
        target: Callable[..., Any],
        *,
        package: str,
        version: str,
        entry_point: str | None = None,
    ) -> None:
        if self.instances and not isinstance(target, self.base):
            found = f"the class {target.__qualname__}" if isinstance(target, type) else f"a {type(target).__qualname__}"
            raise PluginLoadError(
                f"{self.kind} plugin {name!r} from {package} is {found}, not a "
                f"{self.base.__qualname__}; point the entry point at a {self.base.__module__}.{self.base.__qualname__}"
            )
        if not self.instances and isinstance(target, type) and not issubclass(target, self.base):
            raise PluginLoadError(
                f"{self.kind} plugin {name!r} from {package} is {target.__qualname__}, which does not "
                f"subclass {self.base.__qualname__}; derive it from {self.base.__module__}.{self.base.__qualname__}"
            )
        existing = self._entries.get(name)
        if existing is not None and existing.target is not target:
            raise PluginLoadError(
                f"{self.kind} name {name!r} from package {package} collides with the one from package "
                f"{existing.package}; rename one of them"
            )
        self._entries[name] = PluginInfo(name, self.kind, target, package, version, entry_point)

    def unregister(self, name: str) -> None:
        """Remove an entry (tests, and a plugin replacing its own entry at runtime)."""
        self._entries.pop(name, None)

    # -- discovery ------------------------------------------------------------------
    def discover(self, entry_points: Iterable[importlib_metadata.EntryPoint] | None = None) -> None:
        """Load third-party entry points once (or the given ones, which tests use)."""
        if entry_points is None:
            if self._discovered or _env_flag("INRZOO_DISABLE_PLUGIN_AUTOLOAD"):
                return
            self._discovered = True
            entry_points = importlib_metadata.entry_points(group=self.group)
        strict = _env_flag("INRZOO_STRICT_PLUGINS")
        for ep in entry_points:
            package = ep.dist.name if ep.dist is not None else "unknown"
            version = ep.dist.version if ep.dist is not None else "unknown"
            try:
                target = ep.load()
                self._add(ep.name, target, package=package, version=version, entry_point=ep.value)
            except Exception as err:  # a broken plugin must not take inrzoo down with it
                message = f"{type(err).__name__}: {err}"
                failure = PluginFailure(self.kind, f"{ep.name} = {ep.value}", package, message)
                self._failures.append(failure)
                if strict:
                    raise PluginLoadError(
                        f"{self.kind} plugin {ep.name!r} from package {package} failed to load ({message}); "
                        "fix or uninstall it, or unset INRZOO_STRICT_PLUGINS to skip it"
                    ) from err
                warnings.warn(f"skipping {self.kind} plugin {ep.name!r} from {package}: {message}", stacklevel=2)

    # -- lookup ---------------------------------------------------------------------
    def names(self, pattern: str | None = None) -> list[str]:
        """Sorted registered names, optionally filtered by a shell wildcard (``"siren*"``)."""
        self.discover()
        names = sorted(self._entries)
        if pattern:
            names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        return names

    def info(self, name: str) -> PluginInfo:
        self.discover()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise UnknownPluginError(
                f"unknown {self.kind} {name!r}; known {self.kind}s: {known} "
                f"(install a plugin that provides it or pick one of these)"
            ) from None

    def get(self, name: str) -> Callable[..., T]:
        return self.info(name).target

    def create(self, name: str, **kwargs: Any) -> T:
        """Instantiate by name; ``None`` kwargs are dropped so defaults apply (as timm does)."""
        target = self.get(name)
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        try:
            return target(**kwargs)
        except TypeError as err:
            raise InrzooError(f"cannot create {self.kind} {name!r}: {err}") from err

    def entries(self) -> list[PluginInfo]:
        self.discover()
        return [self._entries[n] for n in sorted(self._entries)]

    @property
    def failures(self) -> list[PluginFailure]:
        self.discover()
        return list(self._failures)

    def __contains__(self, name: str) -> bool:
        return name in self.names()


#: The published registries by kind, in the order their kinds were imported.
_PUBLISHED: dict[str, Registry[Any]] = {}


def all_registries() -> dict[str, Registry[Any]]:
    """Every published registry, keyed by kind: those of the kinds imported so far (the CLI imports
    every kind it ships before it asks)."""
    return dict(_PUBLISHED)


def discover_all() -> None:
    """Load every published registry's entry-point group (the CLI does this before parsing a config)."""
    for registry in all_registries().values():
        registry.discover()
