"""Every registered backbone and hypernetwork head against the inrzoo.testing contract.

The parameters come from the registries at collection time, so a newly registered
built-in or an installed plugin is tested without touching this file.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import pytest
import torch
from torch import Tensor, nn

from inrzoo.backbones import (
    INRBackbone,
    LayerParams,
    ModulatedLayer,
    ModulatedLinear,
    NeRVBackbone,
    list_backbones,
)
from inrzoo.errors import InrzooError
from inrzoo.hypernets import FiLMHyperHead, HyperHead, LayerHyperNet, list_hypernets
from inrzoo.models import VideoINR
from inrzoo.testing import BackboneConformance, HyperHeadConformance, tiny_backbone, tiny_hypernet


@pytest.fixture(params=list_backbones())
def registered_backbone(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=list_hypernets())
def registered_hypernet(request: pytest.FixtureRequest) -> str:
    return request.param


class TestRegisteredBackbones(BackboneConformance):
    """Backbone x head matrix: ``test_under_hypernet`` runs for every pair."""

    @pytest.fixture(autouse=True)
    def _choose(self, registered_backbone: str) -> None:
        self.backbone_name = registered_backbone

    def make_backbone(self) -> INRBackbone:
        return tiny_backbone(self.backbone_name)


class TestRegisteredHypernets(HyperHeadConformance):
    """Head x backbone matrix: every test taking ``backbone_name`` runs for every pair."""

    @pytest.fixture(autouse=True)
    def _choose(self, registered_hypernet: str) -> None:
        self.hypernet_name = registered_hypernet

    def make_hypernet(self, layers: list[str] | None = None) -> HyperHead:
        return tiny_hypernet(self.hypernet_name, layers=layers)


def test_the_matrix_is_not_empty() -> None:
    # The shipped built-ins must all be there, whatever plugins add.
    assert {"siren", "fourier-mlp", "nerv-conv", "grid-mlp"} <= set(list_backbones())
    assert {"full", "lowrank-gate", "film"} <= set(list_hypernets())


class TestNeRVOwnStrides(BackboneConformance):
    """The mixin used as a plugin author would: a hand-written factory and geometry."""

    frame_size = (12, 18)

    def make_backbone(self) -> INRBackbone:
        from inrzoo.backbones import NeRVBackbone

        return NeRVBackbone(channels=(8, 6), strides=(3, 2), stem_channels=8, latent_grid=(1, 1))


class TestPatchedSiren(BackboneConformance):
    """Per-patch prediction: each query predicts a 2x2 patch, so frames pad to even sides."""

    frame_size = (15, 21)

    def make_backbone(self) -> INRBackbone:
        from inrzoo.backbones import SirenBackbone

        return SirenBackbone(width=16, depth=3, patch_size=2)


class TestPatchedGridMLP(BackboneConformance):
    def make_backbone(self) -> INRBackbone:
        from inrzoo.backbones import GridMLPBackbone

        return GridMLPBackbone(width=16, num_levels=2, base_resolution=4, finest_resolution=8, patch_size=4)


def test_patches_tile_the_frame_like_pixels() -> None:
    """A patched MLP renders the same layout as per-pixel rendering would: patch (r, c) lands on
    rows r*p..r*p+p-1 and columns c*p..c*p+p-1 of the frame."""
    from inrzoo.backbones import FourierMLPBackbone

    backbone = FourierMLPBackbone(width=8, depth=2, num_frequencies=2, patch_size=2).build(4, (4, 6))
    latent = torch.zeros(1, 4)
    frame = backbone(latent, {})
    # Centroids (x, y) of the top-left and bottom-right patches of a 2 x 3 patch grid.
    patches = backbone.query(latent, {}, torch.tensor([[-2 / 3, -1 / 2], [2 / 3, 1 / 2]]))
    assert torch.allclose(frame[0, :, 0:2, 0:2].reshape(-1), patches[0, 0])
    assert torch.allclose(frame[0, :, 2:4, 4:6].reshape(-1), patches[0, 1])


def test_patch_size_must_divide_the_render_size() -> None:
    from inrzoo.backbones import SirenBackbone
    from inrzoo.errors import InrzooError

    backbone = SirenBackbone(width=8, depth=2, patch_size=4).build(4, (8, 8))
    assert backbone.render_size() == (8, 8)
    with pytest.raises(InrzooError, match="multiples of 4"):
        backbone.render_at(torch.zeros(1, 4), {}, (10, 8))


class _OnePixelShortBackbone(INRBackbone):
    """Renders one row too few: the conformance mixin must catch it."""

    def _build(self) -> None:
        self.layer = ModulatedLinear(2, 3)

    def forward(self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams]) -> Tensor:
        height, width = self.render_size()
        coords = torch.rand(latent.shape[0], (height - 1) * width, 2)
        rgb = torch.sigmoid(self.layer(coords, params.get(self.layer)))
        return rgb.transpose(1, 2).reshape(latent.shape[0], 3, height - 1, width)


class _ConstantGate(LayerHyperNet):
    """A learnable scale that ignores the latent."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, latent: Tensor, weight: Tensor, bias: Tensor | None) -> LayerParams:
        return LayerParams(self.scale * weight.expand(latent.shape[0], *weight.shape), None)


class _LatentBlindHead(HyperHead):
    def make_layer_hypernet(self, latent_dim: int, layer: ModulatedLayer) -> LayerHyperNet:
        return _ConstantGate()


def test_mixin_catches_a_wrong_output_shape() -> None:
    class Checker(BackboneConformance):
        def make_backbone(self) -> INRBackbone:
            return _OnePixelShortBackbone()

    with pytest.raises(AssertionError, match=r"expected \(B, 3, \*render_size\(\)\)"):
        Checker().test_forward_shape_and_range()


def test_mixin_catches_a_head_that_ignores_the_latent() -> None:
    class Checker(HyperHeadConformance):
        def make_hypernet(self, layers: list[str] | None = None) -> HyperHead:
            return _LatentBlindHead(layers)

    with pytest.raises(AssertionError, match="ignores the latent"):
        Checker().test_params_depend_on_the_latent("siren")
    with pytest.raises(AssertionError, match="no gradient reaches the latent"):
        Checker().test_gradient_reaches_latent_and_head("siren")


# -- params reach their layers by identity ----------------------------------------------------------
def _tiny_nerv() -> NeRVBackbone:
    return tiny_backbone("nerv-conv")


class _IgnoresItsHeadParams(NeRVBackbone):
    """Modulates its blocks but renders the head with the shared weights whatever it is given."""

    def forward(self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams]) -> Tensor:
        return super().forward(latent, {layer: p for layer, p in params.items() if layer is not self.head})


class _LooksUpAMisspeltName(NeRVBackbone):
    def forward(self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams]) -> Tensor:
        params.get("haed")
        return super().forward(latent, params)


class _LooksUpByName(NeRVBackbone):
    """A backbone written before 0.2: its params by dotted name."""

    def forward(self, latent: Tensor, params: Mapping[ModulatedLayer, LayerParams]) -> Tensor:
        batch = latent.shape[0]
        coarse = self.latent_to_grid(latent).reshape(batch, self.stem_channels, *self.latent_grid)
        x = nn.functional.interpolate(coarse, size=self.stem_size, mode="bilinear", align_corners=False)
        x = x + self.positional_grid
        for i, block in enumerate(self.blocks):
            x = block(x, params.get(f"blocks.{i}.conv"))
        return torch.sigmoid(self.head(x, params.get("head")))


def _checker(backbone: type[NeRVBackbone]) -> BackboneConformance:
    class Checker(BackboneConformance):
        def make_backbone(self) -> INRBackbone:
            return backbone(**TINY_NERV)

    torch.manual_seed(0)
    return Checker()


TINY_NERV = {"channels": (8, 8, 8), "strides": (5, 2, 2), "stem_channels": 8, "latent_grid": (2, 2)}


def test_mixin_catches_a_backbone_that_ignores_one_layers_params() -> None:
    checker = _checker(_IgnoresItsHeadParams)
    with pytest.raises(AssertionError, match="params for head alone leave the frame unchanged"):
        checker.test_each_modulated_layer_is_applied_on_its_own()
    _checker(NeRVBackbone).test_each_modulated_layer_is_applied_on_its_own()  # the same layers, all used


def test_mixin_catches_a_lookup_that_reaches_no_layer() -> None:
    with pytest.raises(InrzooError, match="no modulated layer has that name"):
        _checker(_LooksUpAMisspeltName).test_a_key_that_reaches_no_layer_is_an_error()


def test_a_backbone_that_looks_up_by_name_still_works_with_a_deprecation() -> None:
    torch.manual_seed(0)
    by_name = _LooksUpByName(**TINY_NERV).build(8, (20, 40))
    current = NeRVBackbone(**TINY_NERV).build(8, (20, 40))
    current.load_state_dict(by_name.state_dict())
    latents = torch.randn(2, 8)
    head = FiLMHyperHead(hidden=8).build(8, current.modulated_layers())
    with torch.no_grad():
        expected = current(latents, current.params_by_layer(head(latents, current.modulated_layers())))
        params = by_name.params_by_layer(head(latents, by_name.modulated_layers()))
        with pytest.warns(DeprecationWarning, match=r"by name \('(blocks\.\d\.conv|head)'\) is deprecated"):
            torch.testing.assert_close(by_name(latents, params), expected)
        assert not torch.allclose(expected, current(latents, {})), "the head modulates nothing: a vacuous check"


@pytest.mark.parametrize("name", ["nerv-conv", "hnerv", "siren"])
def test_params_keyed_by_name_still_reach_their_layers_with_a_deprecation(name: str) -> None:
    """A caller written before 0.2 hands a built-in backbone the head's name-keyed params directly."""
    torch.manual_seed(0)
    backbone = tiny_backbone(name).build(8, (20, 40))
    latents = 0.5 * torch.randn(2, backbone.latent_size)
    named = tiny_hypernet("film").build(backbone.latent_size, backbone.modulated_layers())(
        latents, backbone.modulated_layers()
    )
    with torch.no_grad():
        expected = backbone(latents, backbone.params_by_layer(named))
        with pytest.warns(DeprecationWarning, match="given params keyed by layer name"):
            torch.testing.assert_close(backbone(latents, named), expected, rtol=0, atol=0)
        assert not torch.equal(expected, backbone(latents, {})), "the head modulates nothing: a vacuous check"


def test_modulated_layers_are_found_once_per_build() -> None:
    backbone = _tiny_nerv().build(8, (20, 40))
    layers = backbone.modulated_layers()
    assert layers["head"] is backbone.head and layers["blocks.0.conv"] is backbone.blocks[0].conv
    backbone.extra = ModulatedLinear(2, 2)  # added after build: not walked again
    assert "extra" not in backbone.modulated_layers()
    with pytest.raises(TypeError):
        layers["head"] = backbone.extra  # read-only
    rebuilt = backbone.build(8, (20, 40))
    assert "extra" in rebuilt.modulated_layers() and rebuilt.modulated_layers()["head"] is rebuilt.head
    copied = copy.deepcopy(backbone)
    assert copied.modulated_layers()["head"] is copied.head, "a copy's layers are the copy's own"


def test_the_model_refuses_a_head_that_names_no_layer_of_its_backbone() -> None:
    head = FiLMHyperHead(hidden=8, layers=["layers.*"]).build(
        8, tiny_backbone("siren").build(8, (20, 40)).modulated_layers()
    )
    with pytest.raises(InrzooError, match=r"modulates 'layers.0', 'layers.1'.*which the backbone does not have"):
        VideoINR(_tiny_nerv(), head, latent_dim=8, num_frames=2, frame_size=(20, 40))


class _MisnamingHead(FiLMHyperHead):
    def forward(self, latent: Tensor, layers: Mapping[str, ModulatedLayer]) -> dict[str, LayerParams]:
        return {("haed" if name == "head" else name): p for name, p in super().forward(latent, layers).items()}


def test_the_model_refuses_params_keyed_by_no_layer() -> None:
    model = VideoINR(_tiny_nerv(), _MisnamingHead(hidden=8), latent_dim=8, num_frames=2, frame_size=(20, 40))
    with pytest.raises(InrzooError, match=r"params for 'haed': no modulated layer has that name"):
        model(torch.tensor([0, 1]))
