"""Compatibility declarations between plugins.

Any plugin class may declare that it cannot work with another plugin class, by overriding
:meth:`Pluggable.incompatibility`. The model checks every pair it is built from (and
``inrzoo bench`` every combination it is asked for) before any layer is created, so an
impossible combination is one clear error instead of a shape mismatch deep inside torch.

The built-in rule is a capability check: a hypernetwork head declares the layer types it
can modulate (:attr:`HyperHead.supported_layer_types`) and a backbone the types it exposes
(:attr:`INRBackbone.modulated_layer_types`); a head that supports none of them cannot drive
that backbone.
"""

from __future__ import annotations

from itertools import combinations

from inrzoo.errors import InrzooError


class IncompatiblePluginsError(InrzooError):
    """Two plugins that declare they cannot be combined."""


class Pluggable:
    """Mixin of every plugin base class: the hook a plugin uses to declare what it cannot work with."""

    @classmethod
    def incompatibility(cls, other: type) -> str | None:
        """Why this plugin cannot be combined with the plugin class ``other``; ``None`` if it can.

        Override it to declare a combination that cannot work; the reason is shown to the user,
        so say what is missing (e.g. "needs a text tower", "modulates only conv layers").
        """
        return None


def _as_class(plugin: object) -> type:
    return plugin if isinstance(plugin, type) else type(plugin)


def plugin_label(plugin: object) -> str:
    """The registered name of a plugin class (``'siren'``), else its class name."""
    from inrzoo.registry import all_registries

    cls = _as_class(plugin)
    for registry in all_registries().values():
        for info in registry.entries():
            if info.target is cls:
                return f"{registry.kind} {info.name!r}"
    return cls.__qualname__


def incompatibility(a: object, b: object) -> str | None:
    """The reason plugins ``a`` and ``b`` (classes or instances) cannot be combined, asked both ways."""
    cls_a, cls_b = _as_class(a), _as_class(b)
    for this, other in ((cls_a, cls_b), (cls_b, cls_a)):
        if issubclass(this, Pluggable):
            reason = this.incompatibility(other)
            if reason:
                return reason
    return None


def check_compatible(*plugins: object) -> None:
    """Raise :class:`IncompatiblePluginsError` for the first pair that declares it cannot work together."""
    for a, b in combinations([p for p in plugins if p is not None], 2):
        reason = incompatibility(a, b)
        if reason:
            raise IncompatiblePluginsError(
                f"{plugin_label(a)} cannot be combined with {plugin_label(b)}: {reason}; pick another combination "
                "(`inrzoo plugins` lists what is installed)"
            )
