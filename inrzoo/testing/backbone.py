"""Conformance tests every :class:`~inrzoo.backbones.INRBackbone` should pass."""

from __future__ import annotations

import io
import math

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.backbones.base import INRBackbone
from inrzoo.backbones.layers import LayerParams, LayerParamsMap, ModulatedLayer
from inrzoo.compat import incompatibility
from inrzoo.errors import InrzooError
from inrzoo.hypernets.base import HyperHead
from inrzoo.hypernets.registry import list_hypernets
from inrzoo.testing.factories import random_latents, random_target, tiny_hypernet


class BackboneConformance:
    """Mixin of pytest tests for an INR backbone; subclass it in a ``Test*`` class.

    Implement :meth:`make_backbone` to return a new, *unbuilt* backbone (keep it tiny: the
    tests build it several times). Class attributes set the geometry the tests use::

        from inrzoo.testing import BackboneConformance

        class TestMyBackbone(BackboneConformance):
            frame_size = (20, 40)

            def make_backbone(self):
                return MyBackbone(width=16)

    ``test_under_hypernet`` runs once per registered hypernetwork head (parametrized in
    :meth:`pytest_generate_tests`; override :meth:`hypernet_names` to narrow it).
    """

    #: Size D of the latents the backbone is built for.
    latent_dim: int = 8
    #: (H, W) of the frames the backbone is built for.
    frame_size: tuple[int, int] = (20, 40)
    batch_size: int = 2
    #: Inclusive bounds the rendered values must stay in (the contract says [0, 1]).
    output_range: tuple[float, float] = (0.0, 1.0)
    #: Tolerance for outputs that should agree up to floating-point reordering.
    atol: float = 1e-5
    #: (H, W) the size family (``scaled_kwargs``) is built at: benchmark-sized, not tiny.
    size_family_frame_size: tuple[int, int] = (180, 320)

    # -- what a subclass provides ---------------------------------------------------------
    def make_backbone(self) -> INRBackbone:
        """A new unbuilt backbone; the same arguments on every call."""
        raise NotImplementedError("implement make_backbone() to return an unbuilt INRBackbone")

    def hypernet_names(self) -> list[str]:
        """Registered heads the backbone must work under."""
        return list_hypernets()

    def make_hypernet(self, name: str) -> HyperHead:
        """An unbuilt head of the registered kind ``name``."""
        return tiny_hypernet(name)

    # -- helpers ---------------------------------------------------------------------------
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "hypernet_name" in metafunc.fixturenames:
            metafunc.parametrize("hypernet_name", self.hypernet_names())

    @pytest.fixture(autouse=True)
    def _seed(self) -> None:
        torch.manual_seed(0)

    def built_backbone(self) -> INRBackbone:
        return self.make_backbone().build(self.latent_dim, self.frame_size)

    def latents(self, seed: int = 0, backbone: INRBackbone | None = None) -> Tensor:
        """(B, latent_size) latents for a backbone built at ``frame_size`` (or the one given)."""
        size = (backbone or self.built_backbone()).latent_size
        return random_latents(self.batch_size, size, seed=seed)

    def unmodulated(self, backbone: INRBackbone) -> LayerParamsMap:
        """No params for any layer: the shared base weights (a lookup of anything but a modulated layer fails)."""
        return backbone.params_by_layer({})

    def base_params(self, layer: ModulatedLayer) -> LayerParams:
        """Per-sample params equal to ``layer``'s shared base weight and bias."""
        bias = layer.bias.expand(self.batch_size, -1) if layer.bias is not None else None
        return LayerParams(layer.weight.expand(self.batch_size, *layer.weight.shape), bias)

    def expected_shape(self, backbone: INRBackbone) -> tuple[int, ...]:
        return (self.batch_size, 3, *backbone.render_size())

    def assert_plausible_frames(self, frames: Tensor, backbone: INRBackbone) -> None:
        assert tuple(frames.shape) == self.expected_shape(backbone), (
            f"rendered {tuple(frames.shape)}, expected (B, 3, *render_size()) = {self.expected_shape(backbone)}"
        )
        assert frames.dtype.is_floating_point, f"frames must be floating point, got {frames.dtype}"
        assert torch.isfinite(frames).all(), "frames contain NaN or Inf"
        low, high = self.output_range
        assert frames.min() >= low and frames.max() <= high, (
            f"frames span [{frames.min():.3f}, {frames.max():.3f}], outside {self.output_range}"
        )

    # -- the contract ----------------------------------------------------------------------
    def test_is_an_unbuilt_inr_backbone(self) -> None:
        backbone = self.make_backbone()
        assert isinstance(backbone, INRBackbone)
        assert not backbone.is_built, "make_backbone() must return an unbuilt backbone; VideoINR builds it"
        assert isinstance(backbone.size_multiple, int) and backbone.size_multiple >= 1

    def test_size_family_grows_with_scale(self) -> None:
        """``scaled_kwargs`` (optional) must give buildable backbones whose size grows with the scale, and
        ``scaled_latent_dim`` a latent that never narrows as it grows."""
        cls = type(self.make_backbone())
        if cls.scaled_kwargs(1.0) is None:
            pytest.skip("no size family declared (the backbone takes no part in sized benchmarks)")
        counts = []
        for scale in (1.0, 4.0):
            backbone = cls(**cls.scaled_kwargs(scale)).build(self.latent_dim, self.size_family_frame_size)
            counts.append(sum(p.numel() for p in backbone.parameters()))
        assert counts[1] > counts[0], f"scaled_kwargs(4) has {counts[1]} parameters, scale 1 has {counts[0]}"
        dims = [cls.scaled_latent_dim(scale) for scale in (1.0, 4.0, 16.0)]
        assert all(isinstance(d, int) and d >= 1 for d in dims), f"scaled_latent_dim gave {dims}: positive ints"
        assert dims == sorted(dims), f"scaled_latent_dim must not shrink as the scale grows, got {dims}"

    def test_build_records_geometry(self) -> None:
        backbone = self.make_backbone()
        assert backbone.build(self.latent_dim, self.frame_size) is backbone, "build() must return self"
        assert backbone.is_built
        assert backbone.latent_dim == self.latent_dim
        assert backbone.frame_size == tuple(self.frame_size)
        shape = backbone.latent_shape(self.latent_dim, self.frame_size)
        assert shape[0] == self.latent_dim, f"latent_shape {shape} must start with latent_dim {self.latent_dim}"
        assert backbone.latent_size == math.prod(shape)

    def test_render_size_pads_to_the_size_multiple(self) -> None:
        # A side that is not a multiple must be padded up (the model crops back), never shrunk.
        odd_size = (self.frame_size[0] + 3, self.frame_size[1] + 1)
        backbone = self.make_backbone().build(self.latent_dim, odd_size)
        multiple = backbone.size_multiple
        for side, rendered in zip(odd_size, backbone.render_size(), strict=True):
            assert rendered % multiple == 0, f"render side {rendered} is not a multiple of {multiple}"
            assert side <= rendered < side + multiple, f"side {side} rendered as {rendered}"
        frames = backbone(self.latents(backbone=backbone), self.unmodulated(backbone))
        assert tuple(frames.shape) == self.expected_shape(backbone)

    def test_has_modulated_layers(self) -> None:
        layers = self.built_backbone().modulated_layers()
        assert layers, "a backbone must expose at least one ModulatedLayer for the hypernetworks"
        declared = type(self.make_backbone()).modulated_layer_types
        for name, layer in layers.items():
            assert isinstance(layer, ModulatedLayer)
            assert isinstance(layer, declared), (
                f"{name} is a {type(layer).__name__}, not one of modulated_layer_types {declared}: "
                "hypernetwork heads rely on that declaration"
            )
            assert isinstance(layer.weight, torch.nn.Parameter), f"{name}.weight is not a Parameter"
            if layer.bias is not None:
                assert tuple(layer.bias.shape) == (layer.out_features,), f"{name}.bias must be (out_features,)"

    def test_forward_shape_and_range(self) -> None:
        backbone = self.built_backbone()
        frames = backbone(self.latents(), self.unmodulated(backbone))
        self.assert_plausible_frames(frames, backbone)
        assert frames.std() > 1e-6, "a freshly built backbone renders a constant image"

    def test_base_valued_params_reproduce_the_unmodulated_output(self) -> None:
        backbone = self.built_backbone()
        latents = self.latents()
        params = backbone.params_by_layer({n: self.base_params(m) for n, m in backbone.modulated_layers().items()})
        with torch.no_grad():
            base = backbone(latents, self.unmodulated(backbone))
            torch.testing.assert_close(backbone(latents, params), base, atol=self.atol, rtol=0)

    def test_params_apply_per_sample(self) -> None:
        # Sample 0 gets the base weights, sample 1 halved ones: only sample 1 may change.
        backbone = self.built_backbone()
        latents = self.latents()
        params = {}
        for name, layer in backbone.modulated_layers().items():
            weight = torch.stack([layer.weight, 0.5 * layer.weight] + [layer.weight] * (self.batch_size - 2))
            bias = layer.bias.expand(self.batch_size, -1) if layer.bias is not None else None
            params[name] = LayerParams(weight, bias)
        with torch.no_grad():
            base = backbone(latents, self.unmodulated(backbone))
            modulated = backbone(latents, backbone.params_by_layer(params))
        torch.testing.assert_close(modulated[0], base[0], atol=self.atol, rtol=0)
        assert not torch.allclose(modulated[1], base[1], atol=self.atol), "per-sample weights were ignored"

    def test_each_modulated_layer_is_applied_on_its_own(self) -> None:
        """Params for one layer alone (sample 1's weight halved, its bias shifted) change sample 1's frame and
        leave sample 0's: every layer that ``modulated_layers()`` lists must use the params given for it."""
        backbone = self.built_backbone()
        latents = self.latents()
        with torch.no_grad():
            base = backbone(latents, self.unmodulated(backbone))
            for name, layer in backbone.modulated_layers().items():
                weight = torch.stack([layer.weight, 0.5 * layer.weight] + [layer.weight] * (self.batch_size - 2))
                shift = torch.zeros(self.batch_size, 1)
                shift[1] = 0.5
                bias = layer.bias + shift if layer.bias is not None else None
                modulated = backbone(latents, backbone.params_by_layer({name: LayerParams(weight, bias)}))
                torch.testing.assert_close(modulated[0], base[0], atol=self.atol, rtol=0, msg=(
                    f"params for {name} alone changed another sample's frame"
                ))  # fmt: skip
                assert not torch.allclose(modulated[1], base[1], atol=self.atol), (
                    f"params for {name} alone leave the frame unchanged: the backbone ignores that layer's params"
                )

    def test_a_key_that_reaches_no_layer_is_an_error(self) -> None:
        """Params are keyed by the backbone's own modulated layers: a name of none of them, or a layer of another
        backbone, is an InrzooError (never a silently unmodulated layer), and so is any other key the backbone
        itself looks up."""
        backbone = self.built_backbone()
        layers = backbone.modulated_layers()
        name, layer = next(iter(layers.items()))
        with pytest.raises(InrzooError, match="no modulated layer has that name"):
            backbone.params_by_layer({f"{name}_misspelt": self.base_params(layer)})
        stranger = self.built_backbone().modulated_layers()[name]
        with pytest.raises(InrzooError, match="not one of the backbone's modulated layers"):
            LayerParamsMap({stranger: self.base_params(stranger)}, layers)
        with torch.no_grad():  # each lookup the forward makes is of one of its modulated layers
            backbone(self.latents(), self.unmodulated(backbone))

    def test_row_scaled_params_match_their_dense_form(self) -> None:
        """FiLM-style params (``out_scale``, no weight) must render as the same weights given densely."""
        backbone = self.built_backbone()
        latents = self.latents()
        generator = torch.Generator().manual_seed(3)
        scaled, dense = {}, {}
        for name, layer in backbone.modulated_layers().items():
            scale = 1 + 0.3 * torch.randn(self.batch_size, layer.out_features, generator=generator)
            bias = layer.bias.expand(self.batch_size, -1) if layer.bias is not None else None
            scaled[name] = LayerParams(None, bias, out_scale=scale)
            dense[name] = LayerParams(scaled[name].dense_weight(layer.weight), bias)
        scaled, dense = backbone.params_by_layer(scaled), backbone.params_by_layer(dense)
        with torch.no_grad():
            torch.testing.assert_close(backbone(latents, scaled), backbone(latents, dense), atol=self.atol, rtol=1e-4)

    def test_base_weights_receive_gradients(self) -> None:
        backbone = self.built_backbone()
        frames = backbone(self.latents(), self.unmodulated(backbone))
        F.mse_loss(frames, random_target(frames.shape)).backward()
        for name, layer in backbone.modulated_layers().items():
            assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0, f"no gradient at {name}"

    def test_state_dict_round_trip(self) -> None:
        original = self.built_backbone()
        buffer = io.BytesIO()
        torch.save(original.state_dict(), buffer)
        buffer.seek(0)
        state = torch.load(buffer, weights_only=True)  # checkpoints must load without pickled code
        copy = self.built_backbone()
        copy.load_state_dict(state)
        latents = self.latents()
        with torch.no_grad():
            reloaded, expected = copy(latents, self.unmodulated(copy)), original(latents, self.unmodulated(original))
        assert torch.equal(reloaded, expected), "a reloaded backbone renders differently"

    def test_under_hypernet(self, hypernet_name: str) -> None:
        """Works under each registered head: shape, range, and gradients reach latent and base weights."""
        backbone = self.built_backbone()
        head = self.make_hypernet(hypernet_name)
        reason = incompatibility(backbone, head)
        if reason:
            pytest.skip(f"declared incompatible with {hypernet_name!r}: {reason}")
        layers = backbone.modulated_layers()
        head.build(backbone.modulation_input_size, layers)
        latents = self.latents().requires_grad_(True)
        head_input = backbone.modulation_input(latents)  # what VideoINR gives the head
        assert tuple(head_input.shape) == (latents.shape[0], backbone.modulation_input_size), (
            "modulation_input() must return (B, modulation_input_size)"
        )
        frames = backbone(latents, backbone.params_by_layer(head(head_input, layers)))
        self.assert_plausible_frames(frames, backbone)
        F.mse_loss(frames, random_target(frames.shape)).backward()
        assert latents.grad is not None, "no gradient reaches the latent (it is unused)"
        assert torch.isfinite(latents.grad).all(), "non-finite latent gradient"
        assert latents.grad.abs().sum() > 0, f"no gradient reaches the latent through the {hypernet_name!r} head"
        for name in head.layer_names:
            grad = layers[name].weight.grad
            assert grad is not None and grad.abs().sum() > 0, f"no gradient reaches base weight {name}"
        for name, parameter in backbone.named_parameters():
            assert parameter.grad is not None, f"backbone parameter {name} is unused (no gradient)"
            assert torch.isfinite(parameter.grad).all(), f"non-finite gradient at {name}"

    def test_coordinate_backbones_render_any_grid(self) -> None:
        backbone = self.built_backbone()
        if not backbone.is_coordinate_based:
            pytest.skip("not a coordinate-based backbone")
        render_at = getattr(backbone, "render_at", None)
        assert render_at is not None, "is_coordinate_based backbones must offer render_at(latent, params, (H, W))"
        height, width = self.frame_size
        m = backbone.size_multiple  # patched backbones render whole patches
        rows, cols = -(-(2 * height + 1) // m) * m, -(-(2 * width) // m) * m
        with torch.no_grad():
            fine = render_at(self.latents(), self.unmodulated(backbone), (rows, cols))
        assert tuple(fine.shape) == (self.batch_size, 3, rows, cols)
        assert torch.isfinite(fine).all()

    def test_sampled_pixels_are_the_whole_frame_at_those_pixels(self) -> None:
        """A backbone that offers ``render_sampled`` (training on sampled pixels) must render exactly the whole
        frame's colours at the pixels it names, each pixel once, or the fit optimises another image."""
        backbone = self.built_backbone()
        render_sampled = getattr(backbone, "render_sampled", None)
        if render_sampled is None:
            pytest.skip("renders whole frames only")
        latents, params = self.latents(), self.unmodulated(backbone)
        height, width = backbone.render_size()
        with torch.no_grad():
            whole = backbone(latents, params)
            colours, pixels = render_sampled(latents, params, max(1, height * width // 3))
        assert colours.shape[:2] == (self.batch_size, 3) and pixels.shape == (self.batch_size, colours.shape[2])
        for row in pixels:
            assert row.unique().numel() == row.numel(), "a pixel was drawn twice"
        assert int(pixels.min()) >= 0 and int(pixels.max()) < height * width
        expected = whole.flatten(2).gather(2, pixels.unsqueeze(1).expand(-1, 3, -1))
        torch.testing.assert_close(colours, expected, atol=self.atol, rtol=1e-5)
