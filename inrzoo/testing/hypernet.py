"""Conformance tests every :class:`~inrzoo.hypernets.HyperHead` should pass."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.backbones.base import INRBackbone
from inrzoo.backbones.layers import LayerParams, ModulatedLayer
from inrzoo.backbones.registry import list_backbones
from inrzoo.compat import incompatibility
from inrzoo.errors import InrzooError
from inrzoo.hypernets.base import HyperHead
from inrzoo.testing.factories import random_latents, random_target, tiny_backbone


class HyperHeadConformance:
    """Mixin of pytest tests for a hypernetwork head; subclass it in a ``Test*`` class.

    Implement :meth:`make_hypernet` to return a new, *unbuilt* head that modulates the
    layers matching ``layers`` (``None``: all), as :class:`HyperHead` does::

        from inrzoo.testing import HyperHeadConformance

        class TestMyHead(HyperHeadConformance):
            def make_hypernet(self, layers=None):
                return MyHead(hidden=8, layers=layers)

    Every test that takes ``backbone_name`` runs once per registered backbone (override
    :meth:`backbone_names` to narrow it, or :meth:`make_backbone` for your own backbone).
    """

    latent_dim: int = 8
    frame_size: tuple[int, int] = (20, 40)
    batch_size: int = 2
    #: At initialisation a head should leave the backbone (almost) at its shared base:
    #: the largest change of a weight, relative to the layer's largest base weight (loose,
    #: because residual heads add an absolute offset and SIREN's hidden weights are ~0.02) ...
    init_weight_tolerance: float = 0.25
    #: ... and the largest change of a rendered pixel value in [0, 1].
    init_output_tolerance: float = 0.05

    # -- what a subclass provides ---------------------------------------------------------
    def make_hypernet(self, layers: Sequence[str] | None = None) -> HyperHead:
        """A new unbuilt head modulating the layers matching ``layers`` (None: all)."""
        raise NotImplementedError("implement make_hypernet(layers=None) to return an unbuilt HyperHead")

    def backbone_names(self) -> list[str]:
        """Registered backbones the head must work with."""
        return list_backbones()

    def make_backbone(self, name: str) -> INRBackbone:
        """An unbuilt backbone of the registered kind ``name``."""
        return tiny_backbone(name)

    # -- helpers ---------------------------------------------------------------------------
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "backbone_name" in metafunc.fixturenames:
            metafunc.parametrize("backbone_name", self.backbone_names())

    @pytest.fixture(autouse=True)
    def _seed(self) -> None:
        torch.manual_seed(0)

    def built_pair(self, backbone_name: str, layers: Sequence[str] | None = None) -> tuple[INRBackbone, HyperHead]:
        """The pair, built; skips the test when the plugins declare they cannot be combined."""
        backbone = self.make_backbone(backbone_name)
        head = self.make_hypernet(layers)
        reason = incompatibility(backbone, head)
        if reason:
            pytest.skip(f"declared incompatible with {backbone_name!r}: {reason}")
        backbone.build(self.latent_dim, self.frame_size)
        assert not head.is_built, "make_hypernet() must return an unbuilt head; VideoINR builds it"
        assert head.build(backbone.latent_size, backbone.modulated_layers()) is head, "build() must return self"
        self._latent_size = backbone.latent_size
        return backbone, head

    def latents(self, seed: int = 0) -> Tensor:
        """(B, latent_size) latents for the pair :meth:`built_pair` built last."""
        return random_latents(self.batch_size, self._latent_size, seed=seed)

    # -- the contract ----------------------------------------------------------------------
    def test_is_an_unbuilt_hyperhead(self) -> None:
        head = self.make_hypernet()
        assert isinstance(head, HyperHead)
        assert not head.is_built

    def test_params_match_base_shapes(self, backbone_name: str) -> None:
        backbone, head = self.built_pair(backbone_name)
        layers = backbone.modulated_layers()
        assert head.layer_names == list(layers), "layers=None must modulate every modulated layer"
        params = head(self.latents(), layers)
        assert set(params) == set(layers)
        backbone.params_by_layer(params)  # every key names one of the backbone's layers
        for name, p in params.items():
            layer = layers[name]
            assert isinstance(p, LayerParams)
            dense = p.dense_weight(layer.weight)
            assert tuple(dense.shape) == (self.batch_size, *layer.weight.shape), f"{name}: weight shape"
            if p.bias is not None:
                assert tuple(p.bias.shape) == (self.batch_size, layer.out_features), f"{name}: bias shape"
            assert torch.isfinite(dense).all(), f"{name}: non-finite weight"

    def test_params_depend_on_the_latent(self, backbone_name: str) -> None:
        backbone, head = self.built_pair(backbone_name)
        layers = backbone.modulated_layers()
        with torch.no_grad():
            first, second = head(self.latents(seed=0), layers), head(self.latents(seed=1), layers)
        assert any(
            not torch.equal(first[n].dense_weight(layers[n].weight), second[n].dense_weight(layers[n].weight))
            for n in first
        ), (  # fmt: skip
            "different latents gave identical weights: the head ignores the latent"
        )

    def test_initial_params_stay_near_the_base(self, backbone_name: str) -> None:
        backbone, head = self.built_pair(backbone_name)
        layers = backbone.modulated_layers()
        latents = self.latents()
        with torch.no_grad():
            params = head(latents, layers)
            for name, p in params.items():
                base = layers[name].weight
                change = (p.dense_weight(base) - base).abs().max() / base.abs().max()
                assert change <= self.init_weight_tolerance, f"{name}: initial weights move {change:.3f} off the base"
            modulated = backbone(latents, backbone.params_by_layer(params))
            drift = (modulated - backbone(latents, backbone.params_by_layer({}))).abs().max()
        assert drift <= self.init_output_tolerance, f"an untrained head moves the output by {drift:.3f}"

    def test_gradient_reaches_latent_and_head(self, backbone_name: str) -> None:
        backbone, head = self.built_pair(backbone_name)
        layers = backbone.modulated_layers()
        latents = self.latents().requires_grad_(True)
        frames = backbone(latents, backbone.params_by_layer(head(latents, layers)))
        F.mse_loss(frames, random_target(frames.shape)).backward()
        assert latents.grad is not None, "no gradient reaches the latent (it is unused)"
        assert torch.isfinite(latents.grad).all(), "non-finite latent gradient"
        assert latents.grad.abs().sum() > 0, "no gradient reaches the latent"
        for name, parameter in head.named_parameters():
            assert parameter.grad is not None, f"head parameter {name} gets no gradient"
            assert torch.isfinite(parameter.grad).all(), f"non-finite gradient at {name}"
        assert any(p.grad.abs().sum() > 0 for p in head.parameters()), "the head's parameters never learn"

    def test_state_dict_round_trip(self, backbone_name: str) -> None:
        backbone, original = self.built_pair(backbone_name)
        layers = backbone.modulated_layers()
        buffer = io.BytesIO()
        torch.save(original.state_dict(), buffer)
        buffer.seek(0)
        copy = self.make_hypernet().build(backbone.latent_size, layers)
        copy.load_state_dict(torch.load(buffer, weights_only=True))
        latents = self.latents()
        with torch.no_grad():
            expected, actual = original(latents, layers), copy(latents, layers)
        for name in expected:
            base = layers[name].weight
            assert torch.equal(actual[name].dense_weight(base), expected[name].dense_weight(base)), (
                f"{name}: weights differ after reload"
            )

    def test_layer_patterns_select_layers(self, backbone_name: str) -> None:
        layers = self.make_backbone(backbone_name).build(self.latent_dim, self.frame_size).modulated_layers()
        last = list(layers)[-1]
        backbone, head = self.built_pair(backbone_name, layers=[last])
        assert head.layer_names == [last]
        params = head(self.latents(), backbone.modulated_layers())
        assert set(params) == {last}, "a head must return params only for the layers it selected"
        _, everything = self.built_pair(backbone_name, layers=["*"])
        assert everything.layer_names == list(layers)
        if len(layers) > 1:
            _, smaller = self.built_pair(backbone_name, layers=[last])
            assert sum(p.numel() for p in smaller.parameters()) < sum(p.numel() for p in everything.parameters())

    def test_pattern_matching_nothing_is_a_clear_error(self, backbone_name: str) -> None:
        backbone = self.make_backbone(backbone_name).build(self.latent_dim, self.frame_size)
        layers: dict[str, ModulatedLayer] = backbone.modulated_layers()
        head = self.make_hypernet(["no_such_layer*"])
        with pytest.raises(InrzooError, match="match no backbone layer") as info:
            head.build(backbone.latent_size, layers)
        for name in layers:
            assert name in str(info.value), "the error must list the layers that do exist"
