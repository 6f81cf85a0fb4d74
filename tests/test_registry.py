"""Named registries: registration, lookup, wildcards, and entry-point discovery.

Every test uses a fresh :class:`Registry` so the global ones stay untouched.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from inrzoo.backbones import FourierMLPBackbone, INRBackbone, NeRVBackbone, SirenBackbone
from inrzoo.errors import InrzooError, PluginLoadError, UnknownPluginError
from inrzoo.registry import BUILTIN_SOURCE, Registry, all_registries

# A group no installed package declares, so automatic discovery finds nothing by accident.
GROUP = "inrzoo.tests.backbones"


def fake_entry_point(name: str, value: str, package: str = "fake-plugin", version: str = "1.2.3"):
    """An ``importlib.metadata.EntryPoint`` as an installed distribution would declare it."""
    entry_point = importlib.metadata.EntryPoint(name=name, value=value, group=GROUP)
    vars(entry_point)["dist"] = SimpleNamespace(name=package, version=version)  # what _for(dist) sets
    return entry_point


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Registry[INRBackbone]:
    """A registry holding the built-in siren and nerv-conv; plugin switches reset."""
    monkeypatch.delenv("INRZOO_STRICT_PLUGINS", raising=False)  # CI sets it for the whole run
    monkeypatch.delenv("INRZOO_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    fresh: Registry[INRBackbone] = Registry("backbone", GROUP, INRBackbone)
    fresh.register("siren")(SirenBackbone)
    fresh.register("nerv-conv")(NeRVBackbone)
    return fresh


# -- registration and lookup ------------------------------------------------------------------
def test_register_list_and_create(registry: Registry[INRBackbone]) -> None:
    assert registry.names() == ["nerv-conv", "siren"]
    assert "siren" in registry and "fourier-mlp" not in registry
    backbone = registry.create("siren", width=24, depth=3)
    assert isinstance(backbone, SirenBackbone)
    assert (backbone.width, backbone.depth) == (24, 3)
    info = registry.info("siren")
    assert info.package == BUILTIN_SOURCE and info.target is SirenBackbone and info.entry_point is None
    assert info.qualname == "inrzoo.backbones.coordinate_mlp.SirenBackbone"


def test_register_decorator_returns_the_class(registry: Registry[INRBackbone]) -> None:
    decorated = registry.register("fourier-mlp")(FourierMLPBackbone)
    assert decorated is FourierMLPBackbone
    assert registry.get("fourier-mlp") is FourierMLPBackbone


def test_wildcards(registry: Registry[INRBackbone]) -> None:
    registry.register("siren-tiny")(type("TinySiren", (SirenBackbone,), {}))
    assert registry.names("siren*") == ["siren", "siren-tiny"]
    assert registry.names("*-conv") == ["nerv-conv"]
    assert registry.names("s?ren") == ["siren"]
    assert registry.names("SIREN*") == [], "patterns are case-sensitive"
    assert registry.names("resnet*") == []


def test_create_drops_none_kwargs(registry: Registry[INRBackbone]) -> None:
    backbone = registry.create("siren", width=None, depth=2, omega_0=None)
    default = SirenBackbone()
    assert (backbone.width, backbone.depth, backbone.omega_0) == (default.width, 2, default.omega_0)


def test_create_with_a_wrong_argument_is_a_user_error(registry: Registry[INRBackbone]) -> None:
    with pytest.raises(InrzooError, match="cannot create backbone 'siren'.*no_such_argument"):
        registry.create("siren", no_such_argument=3)


def test_unknown_name_lists_known_names(registry: Registry[INRBackbone]) -> None:
    with pytest.raises(UnknownPluginError) as info:
        registry.create("resnet50")
    message = str(info.value)
    assert "'resnet50'" in message
    assert "nerv-conv" in message and "siren" in message
    assert isinstance(info.value, KeyError) and isinstance(info.value, InrzooError)
    assert not message.startswith('"'), "KeyError's quoting must not leak into the message"


def test_a_non_subclass_is_refused(registry: Registry[INRBackbone]) -> None:
    class NotABackbone:
        pass

    with pytest.raises(PluginLoadError, match="does not subclass INRBackbone"):
        registry.register("impostor")(NotABackbone)
    assert "impostor" not in registry


def test_a_name_collision_names_both_packages(registry: Registry[INRBackbone]) -> None:
    with pytest.raises(PluginLoadError) as info:
        registry._add("siren", FourierMLPBackbone, package="other-package", version="0.1")
    assert "other-package" in str(info.value) and BUILTIN_SOURCE in str(info.value)
    assert registry.get("siren") is SirenBackbone, "a collision must never override the built-in"
    registry.register("siren")(SirenBackbone)  # registering the same class twice is harmless


# -- entry points -------------------------------------------------------------------------
def test_discover_given_entry_points(registry: Registry[INRBackbone]) -> None:
    registry.discover(entry_points=[fake_entry_point("fourier", "inrzoo.backbones.coordinate_mlp:FourierMLPBackbone")])
    assert registry.names() == ["fourier", "nerv-conv", "siren"]
    info = registry.info("fourier")
    assert info.target is FourierMLPBackbone
    assert (info.package, info.version) == ("fake-plugin", "1.2.3")
    assert info.entry_point == "inrzoo.backbones.coordinate_mlp:FourierMLPBackbone"
    assert isinstance(registry.create("fourier", width=8), FourierMLPBackbone)


def test_a_broken_entry_point_is_recorded_and_skipped(registry: Registry[INRBackbone]) -> None:
    broken = fake_entry_point("broken", "inrzoo_no_such_module_xyz:Backbone", package="broken-plugin")
    good = fake_entry_point("fourier", "inrzoo.backbones.coordinate_mlp:FourierMLPBackbone")
    with pytest.warns(UserWarning, match="skipping backbone plugin 'broken' from broken-plugin"):
        registry.discover(entry_points=[broken, good])
    assert "broken" not in registry.names()
    assert "fourier" in registry.names(), "one broken plugin must not hide the others"
    [failure] = registry.failures
    assert failure.package == "broken-plugin"
    assert failure.entry_point == "broken = inrzoo_no_such_module_xyz:Backbone"
    assert "ModuleNotFoundError" in failure.error and "inrzoo_no_such_module_xyz" in failure.error


def test_strict_mode_makes_a_broken_plugin_fatal(
    registry: Registry[INRBackbone], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INRZOO_STRICT_PLUGINS", "1")
    broken = fake_entry_point("broken", "inrzoo_no_such_module_xyz:Backbone", package="broken-plugin")
    with pytest.raises(PluginLoadError, match="'broken' from package broken-plugin failed to load") as info:
        registry.discover(entry_points=[broken])
    assert "INRZOO_STRICT_PLUGINS" in str(info.value), "the message must say how to skip it instead"
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_an_entry_point_colliding_with_a_builtin_is_refused(
    registry: Registry[INRBackbone], monkeypatch: pytest.MonkeyPatch
) -> None:
    clash = fake_entry_point("siren", "inrzoo.backbones.coordinate_mlp:FourierMLPBackbone", package="clash-plugin")
    with pytest.warns(UserWarning, match="siren"):
        registry.discover(entry_points=[clash])
    assert registry.get("siren") is SirenBackbone, "a plugin must not silently replace a built-in"
    [failure] = registry.failures
    assert "clash-plugin" in failure.error and BUILTIN_SOURCE in failure.error

    monkeypatch.setenv("INRZOO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match=f"clash-plugin.*{BUILTIN_SOURCE}"):
        registry.discover(entry_points=[clash])


def test_an_entry_point_to_a_non_subclass_is_refused(registry: Registry[INRBackbone]) -> None:
    wrong = fake_entry_point("dict", "collections:OrderedDict")
    with pytest.warns(UserWarning, match="does not subclass INRBackbone"):
        registry.discover(entry_points=[wrong])
    assert "dict" not in registry.names()
    assert "OrderedDict" in registry.failures[0].error


@pytest.fixture
def recorded_entry_points(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace ``importlib.metadata.entry_points`` with one serving a fake plugin; record the groups asked."""
    asked: list[str] = []
    plugin = fake_entry_point("fourier", "inrzoo.backbones.coordinate_mlp:FourierMLPBackbone")

    def entry_points(*, group: str) -> list[importlib.metadata.EntryPoint]:
        asked.append(group)
        return [plugin] if group == GROUP else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    return asked


def test_discovery_is_lazy_and_runs_once(registry: Registry[INRBackbone], recorded_entry_points: list[str]) -> None:
    assert recorded_entry_points == [], "creating or registering must not discover"
    assert "fourier" in registry.names()
    assert registry.get("fourier") is FourierMLPBackbone
    registry.create("siren")
    registry.names("s*")
    assert recorded_entry_points == [GROUP], "entry points are read once, on the first lookup"


def test_autoload_can_be_disabled(
    registry: Registry[INRBackbone], recorded_entry_points: list[str], no_plugin_autoload: None
) -> None:
    assert registry.names() == ["nerv-conv", "siren"]
    assert recorded_entry_points == []


def test_import_inrzoo_does_not_discover() -> None:
    """In a fresh interpreter: importing inrzoo and its built-ins reads no entry points; a lookup does."""
    script = textwrap.dedent(
        """
        import importlib.metadata
        asked = []
        real = importlib.metadata.entry_points
        def recording(*args, **kwargs):
            if str(kwargs.get("group")).startswith("inrzoo"):  # torch reads its own groups
                asked.append(kwargs["group"])
            return real(*args, **kwargs)
        importlib.metadata.entry_points = recording
        import inrzoo, inrzoo.backbones, inrzoo.hypernets, inrzoo.models
        assert asked == [], asked
        inrzoo.backbones.list_backbones()
        assert asked == ["inrzoo.backbones"], asked
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# -- published registries: the core knows no kind --------------------------------------------
def test_a_kind_publishes_its_own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    from inrzoo import registry as registry_module

    monkeypatch.setattr(registry_module, "_PUBLISHED", dict(registry_module._PUBLISHED))  # restored afterwards
    widgets: Registry[INRBackbone] = Registry("widget", "inrzoo.tests.widgets", INRBackbone, publish=True)
    assert all_registries()["widget"] is widgets
    with pytest.raises(PluginLoadError, match="a widget registry .* is already published"):
        Registry("widget", "inrzoo.tests.other-widgets", INRBackbone, publish=True)
    assert all_registries()["widget"] is widgets
    Registry("widget", GROUP, INRBackbone)  # private registries (tests make many) are never published
    assert all_registries()["widget"] is widgets


def test_the_registry_core_imports_no_plugin_kind() -> None:
    """In a fresh interpreter: the core publishes nothing by itself; importing a kind publishes that kind."""
    script = textwrap.dedent(
        """
        import sys
        from inrzoo.registry import all_registries
        kinds = ("inrzoo.backbones", "inrzoo.hypernets", "inrzoo.teachers", "inrzoo.tasks", "inrzoo.cli")
        assert not [m for m in sys.modules if m.startswith(kinds)], sorted(sys.modules)
        assert all_registries() == {}
        import inrzoo.hypernets  # its heads build on backbone layers, so both kinds publish
        assert sorted(all_registries()) == ["backbone", "hypernet"], all_registries()
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_an_instance_registry_refuses_what_is_not_an_instance(registry: Registry[INRBackbone]) -> None:
    """Commands are instances (rows of the table): a class or a function in their group is refused."""
    from inrzoo.cli import Command

    rows: Registry[Command] = Registry("command", GROUP, Command, instances=True)
    rows.register("hello")(Command("say hello", lambda argv: 0))
    with pytest.warns(UserWarning, match="is the class SirenBackbone, not a Command"):
        rows.discover(entry_points=[fake_entry_point("siren", "inrzoo.backbones.coordinate_mlp:SirenBackbone")])
    assert rows.names() == ["hello"]
    assert rows.info("hello").qualname.endswith("<lambda>")
