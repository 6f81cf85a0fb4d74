"""The LightningModule: latent dictionary + hypernetwork head + INR backbone."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Timer
from torch import Tensor

from inrzoo.alignment import Alignment, AlignmentObjective
from inrzoo.alignment.objective import upgrade_legacy_names
from inrzoo.backbones.base import INRBackbone
from inrzoo.backbones.layers import LayerParamsMap, crop_to
from inrzoo.compat import check_compatible
from inrzoo.errors import InrzooError
from inrzoo.hypernets.base import HyperHead
from inrzoo.models.frame_encoder import FrameEncoder
from inrzoo.models.latent_dictionary import LatentDictionary
from inrzoo.models.losses import ReconstructionLoss
from inrzoo.models.lr_schedule import DECAY_SHAPES, SCHEDULE_CLOCKS, DecayShape, ScheduleClock, rate_factor
from inrzoo.models.metrics import frame_metrics
from inrzoo.models.pixel_sampling import check_pixel_sampling, pixels_of
from inrzoo.models.rate import RateTerm
from inrzoo.options import (
    COUNT,
    FRACTION,
    LEARNING_RATE,
    PIXELS,
    WIDTH,
    check_choice,
    check_options,
    integers,
    numbers,
)
from inrzoo.stored_config import trust_stored_class
from inrzoo.tasks.interpolation import LatentInterpolator, fit_interpolator
from inrzoo.tasks.llm_bridge import LLMBridge
from inrzoo.teachers.base import Teacher

#: Version of what a checkpoint holds; a checkpoint with a higher one is refused with a clear error.
CHECKPOINT_FORMAT = 1
#: Constructor arguments that are plugins (or hold one): saved as hyperparameters only as config data.
PLUGIN_ARGUMENTS = ("backbone", "hypernet", "loss", "alignment", "interpolator", "frame_encoder", "rate", "llm_bridge")


def is_config_data(value: object) -> bool:
    """True for what a config file can hold (None, numbers, strings, lists and dicts of them): a plugin given
    by LightningCLI is its ``class_path`` and ``init_args``; one built in Python is a live object."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_config_data(v) for v in value)
    return isinstance(value, dict) and all(isinstance(k, str) and is_config_data(v) for k, v in value.items())


def fused_adam_supported(parameters: Iterator[Tensor]) -> bool:
    """True when Adam can update every parameter in one fused kernel (CPU and CUDA floats): on a 2-core CPU the
    default per-tensor loop took 4.8 ms of a ~35 ms quickstart step and the fused one 2.5 ms, which pays most at
    batch 1, where there is one update per frame (benchmarks/README.md)."""
    return all(p.device.type in ("cpu", "cuda") and p.dtype in (torch.float32, torch.float64) for p in parameters)


@trust_stored_class  # the model class a checkpoint's or bitstream's config names
class VideoINR(pl.LightningModule):
    """A video as per-frame latents decoded by hypernetwork-modulated INR weights.

    Frame t = crop(backbone(z_t, hypernet(z_t))): time enters only through the latent,
    so every frame decodes on its own.

    Args:
        backbone: the INR (``class_path`` of an :class:`INRBackbone`).
        hypernet: the hypernetwork head (``class_path`` of a :class:`HyperHead`).
        latent_dim: size D of each frame's latent (a spatial backbone's channels per grid cell:
            each frame then stores ``backbone.latent_size`` numbers).
        num_frames: T; linked from the data by the CLI.
        frame_size: (H, W) of the frames; linked from the data by the CLI.
        latent_init_std: latents start from N(0, std^2).
        loss: weights of the reconstruction loss terms.
        learning_rate: peak Adam learning rate (reached after a linear warm-up, then decayed to 1% of it).
        latent_learning_rate: learning rate of the latents (None: ``learning_rate``).
        warmup_fraction: share of the steps (or of the time budget) spent warming up.
        lr_decay: how the rate falls from its peak to 1% of it: ``"cosine"`` or ``"linear"``.
        decay_fraction: share of the steps after the warm-up over which the rate falls; before that it holds its
            peak (1.0: it falls from the end of the warm-up on). The conv backbones recommend a linear decay over
            the last half: +0.2 to +0.3 dB at the cpu tier's 1,500 steps (benchmarks/README.md).
        adam_betas: Adam's (beta1, beta2). A short fit's gradients shrink fast, and a second-moment average over
            the last ~20 steps (beta2 0.95) follows them where PyTorch's ~1,000 (0.999) keeps the steps small:
            +0.4 dB for the cpu tier's hnerv at 1,500 steps (benchmarks/README.md, "Adam's beta2").
        gradient_clip_norm: rescale each step's gradient (every parameter together) to at most this norm
            (None: never), unless the Trainer's ``gradient_clip_val`` is set. On a clip whose frames differ
            a lot (bikes) a few large steps at the peak rate can knock a fit into predicting one mean picture
            for every frame, where it stays; hnerv's recipe clips at 0.1, which healthy fits hardly notice
            (benchmarks/README.md, "Clipped gradients").
        lr_schedule: what drives the warm-up and decay: ``"steps"`` (the planned step count;
            deterministic) or ``"time"`` (the further along of steps and elapsed share of
            ``trainer.max_time``, so a wall-clock budget ends at the bottom of the decay
            however fast the machine runs; rates then depend on timing).
        num_preview_frames: frames shown in TensorBoard image grids.
        alignment: align the latents with a frozen teacher's per-frame features (None: off).
            The alignment head is not counted in :meth:`parameter_count`: decoding does not need it.
        video_name: which video this is (linked from the data by the CLI; names it in a retrieval index).
        interpolator: the task head that gives latents for frames never trained (held-out frames in
            ``test``/``predict``, and ``inrzoo interpolate``'s default); None: linear blending. Fitted on
            the trained latents only, and not saved (it is refitted, deterministically, when needed).
        compile_backbone: ``torch.compile`` the backbone in place (parameter names, and so checkpoints,
            are unchanged); worth it on a GPU for long fits.
        frame_encoder: content-adaptive latents: while fitting, a trained frame's latent is the encoder's
            output for that frame; its outputs are written into the latent dictionary (at each checkpoint,
            at the end of training, or at its ``handoff`` share of the steps, after which the latents train
            directly). Decoding never needs it: it is not counted in :meth:`parameter_count` and never
            goes into a bitstream. None: latents are looked up in the dictionary from the first step.
        channels_last: keep the conv weights (and so the activations) in NHWC memory order: 12% faster
            epochs on this project's reference CPU at the same PSNR (benchmarks/README.md); weights, checkpoints
            and bitstreams are unchanged.
        rate: fit for the file's size too (:class:`~inrzoo.models.rate.RateTerm`): the latents, backbone and
            hypernetwork train through their quantisation (learned step per tensor), and the loss adds
            ``rate.lmbda`` x the estimated bits per pixel under learned entropy models, which `inrzoo compress`
            then codes exactly. None: quantised after the fit only.
        llm_bridge: map the video's latents to a language model's video tokens (``inrzoo chat``), trained against
            tokens exported from a video-language model, jointly with the reconstruction. Stored with the
            video, not counted in :meth:`parameter_count`. None: no bridge.
        sampled_pixels: pixels of each frame a training step renders and scores, drawn afresh at random every
            step (a backbone's ``render_sampled``: the coordinate MLPs). A per-pixel MLP's step then costs about
            sampled_pixels / (H x W) of a whole frame's, so in the same time its latents and weights get that many
            times more updates (benchmarks/README.md, "Coordinate MLPs on sampled pixels"). Validation, tests and
            decoding still render whole frames. None: whole frames; conv decoders always render whole frames, and
            setting it for one is an error, as with an SSIM loss term or a rate term (both need whole frames).
    """

    option_ranges = {
        "latent_dim": WIDTH,
        "num_frames": COUNT,
        "frame_size": PIXELS.per_item(),
        "latent_init_std": numbers(0, 10),
        "learning_rate": LEARNING_RATE,
        "latent_learning_rate": LEARNING_RATE.optional(),
        "warmup_fraction": FRACTION,
        "decay_fraction": numbers(0, 1, low_open=True),
        "adam_betas": numbers(0, 1, high_open=True).per_item(),
        "gradient_clip_norm": numbers(0, 1e6, low_open=True).optional(),
        "num_preview_frames": integers(1, 64),
        "sampled_pixels": COUNT.optional(),
    }

    def __init__(
        self,
        backbone: INRBackbone,
        hypernet: HyperHead,
        latent_dim: int = 32,
        num_frames: int = 1,
        frame_size: tuple[int, int] = (64, 64),
        latent_init_std: float = 0.1,
        loss: ReconstructionLoss | None = None,
        learning_rate: float = 5e-3,
        latent_learning_rate: float | None = None,
        warmup_fraction: float = 0.05,
        lr_decay: DecayShape = "cosine",
        decay_fraction: float = 1.0,
        adam_betas: tuple[float, float] = (0.9, 0.999),
        gradient_clip_norm: float | None = None,
        lr_schedule: ScheduleClock = "steps",
        num_preview_frames: int = 4,
        alignment: Alignment | None = None,
        video_name: str | None = None,
        compile_backbone: bool = False,
        interpolator: LatentInterpolator | None = None,
        frame_encoder: FrameEncoder | None = None,
        channels_last: bool = False,
        rate: RateTerm | None = None,
        llm_bridge: LLMBridge | None = None,
        sampled_pixels: int | None = None,
    ) -> None:
        check_options(self, locals())
        super().__init__()
        self._save_config_hyperparameters()
        # Before any layer is built: one clear error, not a shape mismatch.
        check_compatible(backbone, hypernet, alignment.teacher if alignment is not None else None, interpolator)
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self.backbone = backbone if backbone.is_built else backbone.build(latent_dim, self.frame_size)
        # A spatial backbone's latent is a (C, h, w) map: the dictionary, heads and alignment see it flat.
        latent_size = self.backbone.latent_size
        self.latents = LatentDictionary(num_frames, latent_size, latent_init_std)
        layers = self.backbone.modulated_layers()
        if not hypernet.is_built:  # heads read the backbone's summary of the latent (the latent itself by default)
            hypernet.build(self.backbone.modulation_input_size, layers)
        self.hypernet = hypernet
        unknown = [name for name in self.hypernet.layer_names if name not in layers]
        if unknown:  # a head built for another backbone
            raise InrzooError(
                f"the hypernetwork head modulates {', '.join(map(repr, unknown))}, which the backbone does not have; "
                f"its modulated layers are: {', '.join(layers)}"
            )
        self.frame_encoder = frame_encoder
        if frame_encoder is not None:
            if not frame_encoder.is_built:
                shape = self.backbone.latent_shape(latent_dim, self.frame_size)
                frame_encoder.build(shape, self.backbone.render_size())
            # Set at the handoff: from then on the latents train directly.
            self.register_buffer("encoder_retired", torch.zeros((), dtype=torch.bool))
        self.loss_fn = loss or ReconstructionLoss()
        self.learning_rate = learning_rate
        self.latent_learning_rate = latent_learning_rate
        self.warmup_fraction = warmup_fraction
        check_choice("VideoINR lr_schedule", lr_schedule, SCHEDULE_CLOCKS)
        check_choice("VideoINR lr_decay", lr_decay, DECAY_SHAPES)
        self.lr_decay = lr_decay
        self.decay_fraction = decay_fraction
        self.gradient_clip_norm = gradient_clip_norm
        if len(adam_betas) != 2:
            raise InrzooError(f"adam_betas takes two numbers (beta1, beta2) in [0, 1), got {list(adam_betas)}")
        self.adam_betas = (float(adam_betas[0]), float(adam_betas[1]))
        self.lr_schedule = lr_schedule
        self.num_preview_frames = num_preview_frames
        self.val_metrics = frame_metrics(self.frame_size, prefix="val/")
        self.test_metrics = frame_metrics(self.frame_size, prefix="test/")
        self.video_name = video_name
        # Outside the module tree: a learned interpolator's weights appear only once fitted.
        self.__dict__["interpolator"] = interpolator
        self._interpolator_ready = False
        if channels_last:  # before compiling: the compiled graph is traced for this memory order
            self.backbone.to(memory_format=torch.channels_last)
            if frame_encoder is not None:
                frame_encoder.to(memory_format=torch.channels_last)
        if compile_backbone:
            self.backbone.compile()
        self.alignment = alignment
        self.alignment_objective = AlignmentObjective(alignment, latent_size) if alignment is not None else None
        if llm_bridge is not None and not llm_bridge.is_built:
            llm_bridge.build(latent_size)
        self.llm_bridge = llm_bridge
        # Last: it takes a step per tensor the decoder stores, so those must all exist.
        self.rate = rate.build(self.rate_tensors()) if rate is not None else None
        self.sampled_pixels = sampled_pixels
        if sampled_pixels is not None:
            check_pixel_sampling(self.backbone, self.frame_size, self.loss_fn, rate)

    def rate_tensors(self) -> dict[str, Tensor]:
        """The tensors a rate term quantises and codes: the latents, the backbone's and the heads' parameters."""
        named = [("latents.weight", self.latents.weight)]
        named += [(f"backbone.{n}", p) for n, p in self.backbone.named_parameters()]
        named += [(f"hypernet.{n}", p) for n, p in self.hypernet.named_parameters()]
        return {name: p for name, p in named if p.is_floating_point() and p.numel() >= 2}

    @torch.no_grad()
    def use_coded_values_(self) -> VideoINR:
        """Give the rate-coded tensors their file's values (the hard-rounded symbols x step), in place.

        A rate fit trains through its quantisation, so its full-precision weights decode *worse* than the
        file (1 dB on a 20-epoch Bunny fit): anything that decodes a fitted run should see these values. A
        no-op without a rate term; rounding again gives the same symbols."""
        if self.rate is not None:
            for name, tensor in self.rate_tensors().items():
                tensor.copy_(self.rate.quantized(name, tensor, noise=False))
        return self

    @contextmanager
    def coded_values(self) -> Iterator[VideoINR]:
        """:meth:`use_coded_values_` within the block, the trained values restored after (for scoring a fit
        at its end, as its file will decode, without touching what training or a checkpoint holds)."""
        saved = {name: tensor.detach().clone() for name, tensor in self.rate_tensors().items()} if self.rate else {}
        try:
            yield self.use_coded_values_()
        finally:
            with torch.no_grad():
                for name, tensor in self.rate_tensors().items():
                    if name in saved:
                        tensor.copy_(saved[name])

    def _save_config_hyperparameters(self) -> None:
        """Save the constructor's arguments as hyperparameters, the plugins among them only as config data.

        Under LightningCLI (and when a checkpoint it wrote is loaded) every argument arrives as config data, a
        plugin as its ``class_path`` and ``init_args``: all are saved, so the checkpoint rebuilds the whole model.
        A model built in Python gets live objects: those are left out, so its checkpoints hold plain data only
        and load with ``weights_only=True`` (give the plugins again to ``load_from_checkpoint``).
        """
        # The backbone alone shows which case this is, without Lightning deep-copying the other plugins (a
        # teacher already loaded can be large); a live one is dropped again just below.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Attribute 'backbone' is an instance of `nn.Module`")
            self.save_hyperparameters("backbone")
        if is_config_data(self.hparams["backbone"]):
            self.save_hyperparameters()
            live = [name for name in PLUGIN_ARGUMENTS if not is_config_data(self.hparams.get(name))]
        else:
            live = list(PLUGIN_ARGUMENTS)
        if live:
            # Saving again with them ignored drops them from hparams and from hparams_initial alike.
            self.save_hyperparameters(ignore=live)

    # -- decoding --------------------------------------------------------------------
    def modulation(self, latents: Tensor) -> LayerParamsMap:
        """latents: (B, D) -> the hypernetwork's per-sample params, keyed by the backbone layers they modulate."""
        head_input = self.backbone.modulation_input(latents)  # the latent itself, or the backbone's summary of it
        return self.backbone.params_by_layer(self.hypernet(head_input, self.backbone.modulated_layers()))

    def decode_latents(self, latents: Tensor) -> Tensor:
        """latents: (B, D) -> frames (B, 3, H, W) in [0, 1] at the native frame size."""
        frames = self.backbone(latents, self.modulation(latents))
        height, width = self.frame_size
        # Backbones with a size multiple render padded; crop back to the native frame.
        return crop_to(frames, height, width)

    def decode_sampled_pixels(self, latents: Tensor, frames: Tensor) -> tuple[Tensor, Tensor]:
        """latents (B, D) and their frames (B, 3, H, W) -> (prediction, target), each (B, 3, 1, N): the colours
        of :attr:`sampled_pixels` random pixels of each frame, and the frame's own colours there."""
        colours, pixels = self.backbone.render_sampled(latents, self.modulation(latents), self.sampled_pixels)
        return colours.unsqueeze(2), pixels_of(frames, pixels).unsqueeze(2)

    def forward(self, indices: Tensor | None = None, latents: Tensor | None = None) -> Tensor:
        """indices: (B,) frame numbers (or their ``latents``, (B, D)) -> (B, 3, H, W)."""
        return self.decode_latents(self.latents(indices) if latents is None else latents)

    def decode_frames(self, indices: Tensor) -> Tensor:
        """Like forward, but frames never trained come from the trained latents around them
        (through :attr:`interpolator` when one is configured, else linear blending)."""
        if self.interpolator is None:
            return self.decode_latents(self.latents.at_times(indices.float()))
        if not self._interpolator_ready:
            fit_interpolator(self.interpolator, self.latents)
            self._interpolator_ready = True
        return self.decode_latents(self.interpolator.latents_at(self.latents, indices.float()))

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        self._interpolator_ready = False  # the latents moved: refit before the next decode

    # -- size accounting ------------------------------------------------------------------
    def parameter_count(self) -> int:
        """Everything a decoder needs: latents, hypernetworks and backbone (not the alignment head, nor the
        LLM bridge, nor the frame encoder, which only trains)."""
        extra = list(self.alignment_objective.parameters()) if self.alignment_objective is not None else []
        extra += list(self.frame_encoder.parameters()) if self.frame_encoder is not None else []
        extra += list(self.llm_bridge.parameters()) if self.llm_bridge is not None else []
        skip = {id(p) for p in extra}
        return sum(p.numel() for p in self.parameters() if id(p) not in skip)

    # -- semantics ------------------------------------------------------------------------
    def aligned_embeddings(self, indices: Tensor | None = None) -> Tensor:
        """L2-normalised latents projected into the teacher's space, (T, feature_dim) or (B, feature_dim)."""
        if self.alignment_objective is None:
            raise InrzooError("this model was fitted without alignment; its latents have no teacher-space embedding")
        return self.alignment_objective.embed(self.latents.weight if indices is None else self.latents(indices))

    def _fitted_bridge(self) -> LLMBridge:
        if self.llm_bridge is None:
            raise InrzooError("this model was fitted without an LLM bridge; it has no video tokens")
        return self.llm_bridge

    @torch.no_grad()  # one code path (attention's no-grad fast path), so the same latents give the same tokens
    def video_tokens(self) -> Tensor:
        """The LLM bridge's tokens of this video (num_tokens, token_dim), from the trained latents."""
        return self._fitted_bridge()(self.latents.weight[self.latents.trained])

    def bridge_null_cosine(self) -> Tensor:
        """:meth:`~inrzoo.tasks.LLMBridge.null_cosine` of this video's trained latents (1: the tokens ignore them)."""
        return self._fitted_bridge().null_cosine(self.latents.weight[self.latents.trained])

    def _bridge_terms(self, indices: Tensor, latents: Tensor) -> tuple[Tensor, Tensor]:
        """The bridge's (loss, cosine) on the trained rows of the latent table with the batch's rows (B,) given as
        ``latents`` (the rows that train through this step; all rows do without a frame encoder)."""
        assert self.llm_bridge is not None
        return self.llm_bridge.terms(self._table_with_batch(indices, latents)[self.latents.trained])

    def _table_with_batch(self, indices: Tensor, latents: Tensor) -> Tensor:
        """The whole latent table (T, D) with the rows of frames ``indices`` (B,) given as ``latents``, the rows that
        train through this step. While an encoder serves, the table follows it: the batch's latents are written into
        the dictionary first, so every other row is its frame's encoded latent from when it last trained (at most an
        epoch behind, not the initial values the encoder's latents replace at the end), and only the batch's rows
        carry a gradient (through the encoder)."""
        if self.encoder_active:
            with torch.no_grad():
                self.latents.weight[indices] = latents.detach().to(self.latents.weight.dtype)
        base = self.latents.weight.detach() if self.encoder_active else self.latents.weight
        return base.index_put((indices,), latents)

    @property
    def teacher(self) -> Teacher | None:
        """The alignment teacher (None without alignment); outside the module tree, never saved."""
        return self.alignment_objective.teacher if self.alignment_objective is not None else None

    def bits_per_pixel(self, bits_per_parameter: int = 16) -> float:
        height, width = self.frame_size
        return self.parameter_count() * bits_per_parameter / (self.latents.num_frames * height * width)

    # -- Lightning hooks ------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        from inrzoo import __version__

        checkpoint["inrzoo_checkpoint_format"] = CHECKPOINT_FORMAT
        checkpoint["inrzoo_version"] = __version__
        if self.encoder_active and "state_dict" in checkpoint:
            # A checkpoint decodes from its dictionary alone: give it the encoder's current latents.
            state = checkpoint["state_dict"]
            state["latents.weight"] = self._with_encoded_latents(state["latents.weight"])

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        found = checkpoint.get("inrzoo_checkpoint_format", CHECKPOINT_FORMAT)
        if found > CHECKPOINT_FORMAT:
            raise InrzooError(
                f"this checkpoint has inrzoo checkpoint format {found} (written by inrzoo "
                f"{checkpoint.get('inrzoo_version', '?')}); this inrzoo reads format {CHECKPOINT_FORMAT}: "
                "upgrade inrzoo"
            )

    def _attached_trainer(self) -> pl.Trainer | None:
        """The trainer running this model, or None (Lightning's ``trainer`` raises outside one)."""
        try:
            return self.trainer
        except RuntimeError:
            return None

    def setup(self, stage: str) -> None:
        datamodule = getattr(self._attached_trainer(), "datamodule", None)
        if stage == "fit" and datamodule is not None and hasattr(datamodule, "train_indices"):
            self.latents.mark_trained(datamodule.train_indices)
        if self.alignment_objective is not None and stage in {"fit", "validate"} and datamodule is not None:
            self.prepare_teacher_features(datamodule.frames, getattr(datamodule, "video_key", None))
        if self.llm_bridge is not None and stage in {"fit", "validate"}:
            self.llm_bridge.prepare()

    def prepare_teacher_features(self, frames: Tensor, video_key: str | None) -> None:
        """Compute (or read from the cache) the teacher's feature of every frame (T, 3, H, W), once."""
        if self.alignment_objective is None:
            raise InrzooError("this model was built without alignment; it has no teacher")
        if frames.shape[0] != self.latents.num_frames:
            raise InrzooError(
                f"the data has {frames.shape[0]} frames and the model {self.latents.num_frames}; they must match"
            )
        self.alignment_objective.prepare(frames, video_key)

    def _load_from_state_dict(
        self, state_dict: dict[str, Tensor], prefix: str, local_metadata: dict[str, Any], strict: bool,
        missing_keys: list[str], unexpected_keys: list[str], error_msgs: list[str],
    ) -> None:  # fmt: skip
        # Checkpoints and bitstreams before 0.2 kept the alignment tensors at the model's top level (the
        # submodules load after this, from the renamed entries).
        upgrade_legacy_names(state_dict, prefix, f"{prefix}alignment_objective.")
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    # -- content-adaptive latents (frame encoder) -------------------------------------------
    @property
    def encoder_active(self) -> bool:
        """True while training latents come from the frame encoder rather than the dictionary."""
        return self.frame_encoder is not None and not bool(self.encoder_retired)

    @torch.no_grad()
    def _with_encoded_latents(self, table: Tensor, batch_size: int = 16) -> Tensor:
        """A copy of the latent ``table`` (T, latent_size) whose trained rows are the encoder's latents of
        those frames (held-out rows stay); the table itself when the frames are not at hand."""
        datamodule = getattr(self._attached_trainer(), "datamodule", None)
        if self.frame_encoder is None or datamodule is None or not hasattr(datamodule, "frames"):
            return table
        indices = torch.nonzero(self.latents.trained, as_tuple=False).flatten().cpu()
        frames = datamodule.frames
        encoded = torch.cat([
            self.frame_encoder(frames[indices[i : i + batch_size]].to(self.device).float() / 255)
            for i in range(0, len(indices), batch_size)
        ])  # fmt: skip
        updated = table.clone()
        updated[indices.to(table.device)] = encoded.to(table.device, table.dtype)
        return updated

    def store_encoded_latents(self) -> None:
        """Write the encoder's latents of the trained frames into the dictionary (held-out rows stay)."""
        with torch.no_grad():
            self.latents.weight.copy_(self._with_encoded_latents(self.latents.weight))

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        if self.encoder_active and self.frame_encoder.handoff < 1.0:
            progress = self._training_progress(self.global_step)
            if progress is not None and progress >= self.frame_encoder.handoff:
                self.store_encoded_latents()  # from here on the latents train directly
                self.encoder_retired.fill_(True)

    def on_train_start(self) -> None:
        if self.encoder_active and self.rate is not None and self.rate.is_temporal("latents.weight"):
            self.store_encoded_latents()  # the changes' first estimates are between encoded latents

    def on_validation_start(self) -> None:
        if self.encoder_active:
            self.store_encoded_latents()

    def on_train_end(self) -> None:
        # The dictionary gets the final latents; the encoder stays in charge of training, so a fit continued
        # or resumed from any checkpoint trains exactly as one that never stopped.
        if self.encoder_active:
            self.store_encoded_latents()

    def _training_latents(self, batch: dict[str, Tensor]) -> Tensor:
        if self.encoder_active:
            latents = self.frame_encoder(batch["frame"])
            trainer = self._attached_trainer()
            if trainer is not None and trainer.world_size > 1:
                # DDP expects a gradient for every parameter at every step; the dictionary's is exactly zero
                # while the encoder serves (so Adam leaves it unchanged) and real after a handoff.
                latents = latents + 0.0 * self.latents(batch["index"])
            return latents
        return self.latents(batch["index"])

    def rate_decode(self, latents: Tensor, noise: bool = True, indices: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """latents: (B, D) of frames ``indices`` -> (frames decoded through the quantisation the file will hold,
        estimated bits per pixel). ``noise``: the training relaxation; without it, the file's exact
        hard-rounded values. ``indices`` None: ``latents`` is the whole table."""
        if self.rate is None:
            raise InrzooError("this model was fitted without a rate term")
        quantized, bits = {}, []
        for name, tensor in self.rate_tensors().items():
            if name != "latents.weight":
                quantized[name], tensor_bits = self.rate.relaxed(name, tensor, noise)
                bits.append(tensor_bits)
        if self.rate.is_temporal("latents.weight"):
            # Coded across time, a latent's bits depend on its neighbours': the whole table, the batch's rows
            # the ones being trained.
            table = latents if indices is None else self._table_with_batch(indices, latents)
            bits.append(self.rate.temporal_bits("latents.weight", table, noise))
            latents = self.rate.quantized("latents.weight", latents, noise)
        else:
            latents, latent_bits = self.rate.relaxed("latents.weight", latents, noise)
            # The batch's latents stand for the whole dictionary's.
            bits.append(latent_bits * self.latents.num_frames / latents.shape[0])
        frames = torch.func.functional_call(self, quantized, (), {"latents": latents}, strict=False)
        height, width = self.frame_size
        return frames, torch.stack(bits).sum() / (self.latents.num_frames * height * width)

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> dict[str, Tensor]:
        """The step's loss, and its training PSNR (what :class:`~inrzoo.callbacks.DivergenceGuard` watches at
        every step). The scalars go to Lightning's log only on the steps it writes them (:meth:`_logs_this_step`)."""
        latents = self._training_latents(batch)
        target, bpp = batch["frame"], None
        if self.sampled_pixels is not None:
            prediction, target = self.decode_sampled_pixels(latents, target)
        elif self.rate is None:
            prediction = self.decode_latents(latents)
        else:
            prediction, bpp = self.rate_decode(latents, indices=batch["index"])
        terms = self.loss_fn(prediction, target)
        mse = torch.mean((prediction.detach().clamp(0, 1) - target) ** 2)
        psnr = -10 * torch.log10(mse.clamp(min=1e-10))
        loss = terms["loss"]
        scalars = {f"train/{name}": value for name, value in terms.items() if name != "loss"}
        if bpp is not None:
            loss = loss + self.rate.lmbda * bpp
        if self.alignment_objective is not None:
            align_loss, cosine = self.alignment_objective.terms(batch["index"], latents)
            scalars |= {"train/recon_loss": terms["loss"], "train/align_loss": align_loss, "train/align_cosine": cosine}
            loss = loss + self.alignment_objective.loss_weight * align_loss
        if self.llm_bridge is not None:
            bridge_loss, bridge_cosine = self._bridge_terms(batch["index"], latents)
            scalars |= {"train/bridge_loss": bridge_loss, "train/bridge_cosine": bridge_cosine}
            loss = loss + self.llm_bridge.loss_weight * bridge_loss
        if self._logs_this_step():
            on_bar = {"train/loss": loss, "train/psnr": psnr} | ({"train/bpp_estimate": bpp} if bpp is not None else {})
            self.log_dict(on_bar, prog_bar=True)
            self.log_dict(scalars)
        return {"loss": loss, "psnr": psnr.detach()}

    def _logs_this_step(self) -> bool:
        """Whether Lightning writes this step's scalars (every ``log_every_n_steps``, the first and the last
        planned step): each ``self.log`` costs about 0.7 ms of Python, 9% of a cpu-tier hnerv step at one thread
        (benchmarks/README.md), for values nothing reads between the steps that write them."""
        trainer = self._attached_trainer()
        if trainer is None:
            return False  # called by hand: there is no log to write to
        step = self.global_step + 1
        if self.global_step == 0 or step % max(1, trainer.log_every_n_steps) == 0:
            return True
        planned = float(trainer.estimated_stepping_batches)  # asked only off the written steps: the last one
        return math.isfinite(planned) and step >= planned

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        if self.rate is None:
            prediction = self(batch["index"]).clamp(0, 1)
        else:  # the file's quality: decoded through the hard quantisation
            prediction = self.rate_decode(self.latents(batch["index"]), noise=False, indices=batch["index"])[0]
            prediction = prediction.clamp(0, 1)
        self.val_metrics.update(prediction, batch["frame"])
        if self.alignment_objective is not None and self.alignment_objective.is_prepared:
            _, cosine = self.alignment_objective.terms(batch["index"], self.latents(batch["index"]))
            self.log("val/align_cosine", cosine, batch_size=batch["index"].shape[0])
        if self.llm_bridge is not None and self.llm_bridge.is_prepared and batch_idx == 0:
            _, cosine = self._bridge_terms(batch["index"], self.latents(batch["index"]))  # the whole video's tokens
            self.log("val/bridge_cosine", cosine, batch_size=1)
            self.log("val/bridge_null_cosine", self.bridge_null_cosine(), batch_size=1)
        if batch_idx == 0:
            self._log_preview("val/preview", prediction, batch["frame"])

    def on_validation_epoch_end(self) -> None:
        self.log_dict(self.val_metrics.compute(), prog_bar=True)
        self.val_metrics.reset()

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        prediction = self.decode_frames(batch["index"]).clamp(0, 1)
        self.test_metrics.update(prediction, batch["frame"])

    def on_test_epoch_end(self) -> None:
        self.log_dict(self.test_metrics.compute())
        self.test_metrics.reset()

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int) -> dict[str, Tensor]:
        frames = self.decode_frames(batch["index"]).clamp(0, 1)
        return {"index": batch["index"], "frames": (frames * 255).round().to(torch.uint8)}

    def _log_preview(self, tag: str, prediction: Tensor, target: Tensor) -> None:
        logger = self.logger
        experiment = getattr(logger, "experiment", None)
        if experiment is None or not hasattr(experiment, "add_images") or self.trainer.sanity_checking:
            return
        n = min(self.num_preview_frames, prediction.shape[0])
        pairs = torch.cat([target[:n], prediction[:n]], dim=-1)  # ground truth | reconstruction
        experiment.add_images(tag, pairs, global_step=self.global_step)

    def configure_gradient_clipping(
        self, optimizer: torch.optim.Optimizer, gradient_clip_val: float | None = None,
        gradient_clip_algorithm: str | None = None,
    ) -> None:  # fmt: skip
        """The Trainer's ``gradient_clip_val`` when given, else :attr:`gradient_clip_norm` (the recipe travels with
        the model, so ``inrzoo bench`` and ``inrzoo fit`` clip alike)."""
        if gradient_clip_val is None and self.gradient_clip_norm is not None:
            gradient_clip_val, gradient_clip_algorithm = self.gradient_clip_norm, "norm"
        self.clip_gradients(optimizer, gradient_clip_val, gradient_clip_algorithm)

    def configure_optimizers(self) -> dict[str, Any]:
        latent_params = list(self.latents.parameters())
        rate_params = list(self.rate.parameters()) if self.rate is not None else []
        own_ids = {id(p) for p in latent_params + rate_params}
        other_params = [p for p in self.parameters() if id(p) not in own_ids]
        groups = [
            {"params": other_params, "lr": self.learning_rate},
            {"params": latent_params, "lr": self.latent_learning_rate or self.learning_rate},
        ]
        if rate_params:
            groups.append({"params": rate_params, "lr": self.rate.learning_rate})
        optimizer = torch.optim.Adam(groups, betas=self.adam_betas, fused=fused_adam_supported(self.parameters()))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, self._schedule_factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def _training_progress(self, step: int) -> float | None:
        """Share of training done in [0, 1], or None when no end is known."""
        shares = []
        trainer = self._attached_trainer()
        if trainer is not None:
            planned = float(trainer.estimated_stepping_batches)
            if math.isfinite(planned) and planned > 0:
                shares.append(step / planned)
            if self.lr_schedule == "time":
                timer = next((cb for cb in trainer.callbacks if isinstance(cb, Timer)), None)
                if timer is not None:
                    elapsed = timer.time_elapsed("train")
                    total = elapsed + (timer.time_remaining("train") or 0.0)
                    if total > 0:
                        shares.append(elapsed / total)
        return min(1.0, max(shares)) if shares else None

    def _schedule_factor(self, step: int) -> float:
        """Linear warm-up, then the decay to 1% of the peak (:func:`rate_factor`); the peak when no end is known."""
        progress = self._training_progress(step)
        if progress is None:
            warmup_steps = 100 * self.warmup_fraction
            return min(1.0, (step + 1) / max(1.0, warmup_steps))
        return rate_factor(progress, self.warmup_fraction, self.lr_decay, self.decay_fraction)
