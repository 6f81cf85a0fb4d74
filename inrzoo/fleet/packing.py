"""``fit-many --pack K``: K videos of one geometry and one model config fitted in one process, as one
batched computation (one GPU is otherwise mostly idle on a 100k-parameter INR).

Each member keeps its own model (latents, hypernetwork, backbone, frame encoder), Adam state, learning-rate
schedule, checkpoint and run folder. The members' parameters are stacked once (each member's parameter a
view of its slice of the stack); a step computes every member's loss in one :func:`torch.func.vmap`'d
``functional_call`` of the model over the stack, and gives each member its slice of the gradient for its own
optimiser, which updates the stack in place. The steps are
``inrzoo fit``'s: the same initial weights (the config's seed), frames in the same order each epoch, the same
loss, Adam groups and schedule (the model's own ``configure_optimizers``), its own gradient clipping
(``gradient_clip_norm``, on its own slice), a ``last.ckpt`` after every epoch;
only the batched kernels' rounding differs. A member whose loss turns NaN/Inf is reported failed and leaves
the pack; the others go on. What a packed fit cannot reproduce is refused (:func:`check_packable`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from torch import Tensor
from torch.func import functional_call, vmap

from inrzoo.data.datamodule import VideoDataModule
from inrzoo.errors import InrzooError
from inrzoo.evaluation import evaluate_reconstruction
from inrzoo.fleet.results import VideoOutcome, write_outcome
from inrzoo.io.files import claim_output
from inrzoo.models.video_inr import VideoINR

UNSUPPORTED_FIX = "fit these videos without --pack"
#: The parts of a VideoINR whose training a pack reproduces (metrics only score, they never train).
PACKABLE_PARTS = frozenset(
    {"backbone", "latents", "hypernet", "frame_encoder", "alignment_objective", "val_metrics", "test_metrics"}
)


@dataclass
class PackMember:
    """One video of a pack: its model and data built from the pack's config, and where its run goes."""

    name: str
    video: str
    model: VideoINR
    datamodule: VideoDataModule
    run_dir: Path
    resume: Path | None = None
    config_text: str = ""
    error: str | None = None
    step: int = 0
    start_epoch: int = 0
    optimizer: torch.optim.Optimizer | None = field(default=None, repr=False)
    scheduler: Any = field(default=None, repr=False)
    plan: _Plan | None = field(default=None, repr=False)


@dataclass
class PackPlan:
    """The trainer settings a pack follows (the same for every member: one config)."""

    max_epochs: int
    limit_train_batches: int | float
    device: torch.device


class _Plan:
    """What a :class:`VideoINR` reads of its trainer while fitting (the schedule's planned steps, the frames
    for its frame encoder), in place of a Lightning ``Trainer``, which runs one model."""

    def __init__(self, epochs: int, steps_per_epoch: int, datamodule: VideoDataModule) -> None:
        self.steps_per_epoch = steps_per_epoch
        self.estimated_stepping_batches = epochs * steps_per_epoch
        self.datamodule = datamodule
        self.callbacks: list[pl.Callback] = []
        self.world_size = 1
        self.global_step = 0
        self.current_epoch = 0


def plan_from_trainer(trainer: pl.Trainer) -> PackPlan:
    """The pack's settings from a trainer built from the config; a setting a pack cannot follow is refused."""
    refused = {
        "trainer.devices > 1 or num_nodes > 1 (a pack runs on one device)": trainer.world_size > 1,
        f"trainer.precision={trainer.precision}": str(trainer.precision) not in ("32-true", "32"),
        "trainer.accumulate_grad_batches > 1": trainer.accumulate_grad_batches != 1,
        "trainer.gradient_clip_val": trainer.gradient_clip_val not in (None, 0),
        "trainer.max_steps (give trainer.max_epochs)": trainer.max_steps not in (-1, None),
        "trainer.fast_dev_run": bool(trainer.fast_dev_run),
    }
    for what, bad in refused.items():
        if bad:
            raise InrzooError(f"--pack does not support {what}; change it or {UNSUPPORTED_FIX}")
    return PackPlan(trainer.max_epochs or 1000, trainer.limit_train_batches, trainer.strategy.root_device)


def check_packable(model: VideoINR) -> None:
    """Refuse the model features whose packed fit would differ from ``inrzoo fit``'s, with one line each."""
    hparams = model.hparams
    refused = {
        "a rate term (its noise draws)": model.rate is not None,
        "compile_backbone": bool(hparams.get("compile_backbone")),
        "lr_schedule=time (it follows the wall clock)": model.lr_schedule == "time",
        "an SSIM loss term": bool(model.loss_fn.ssim),
        "an LLM bridge (its own loss term)": getattr(model, "llm_bridge", None) is not None,
    }
    for what, bad in refused.items():
        if bad:
            raise InrzooError(f"--pack does not support {what}; {UNSUPPORTED_FIX}")
    # Fail closed: a part added to the model later may add to its training step, which a pack would not follow.
    unknown = [name for name, _ in model.named_children() if name not in PACKABLE_PARTS]
    if unknown:
        raise InrzooError(f"--pack does not know the model's {', '.join(unknown)} (it may train differently); "
                          f"{UNSUPPORTED_FIX}")  # fmt: skip


def _geometry(member: PackMember, plan: PackPlan) -> tuple[int, ...]:
    data = member.datamodule
    return (data.num_frames, *member.model.frame_size, len(data.train_indices), data.batch_size, _steps(member, plan))


def _describe(geometry: tuple[int, ...]) -> str:
    frames, height, width, trained, batch, _ = geometry
    return f"{frames} frames {height}x{width}, {trained} trained, batch {batch}"


def check_geometry(members: list[PackMember], plan: PackPlan) -> None:
    first = _geometry(members[0], plan)
    for member in members[1:]:
        other = _geometry(member, plan)
        if other != first:
            raise InrzooError(
                f"--pack: {members[0].name} ({_describe(first)}) and {member.name} ({_describe(other)}) differ; "
                "a pack needs one geometry: give videos of one size and length per manifest, or use --pack 1"
            )


def _steps(member: PackMember, plan: PackPlan) -> int:
    """Optimiser steps per epoch, as Lightning counts them under ``limit_train_batches``."""
    batches = -(-len(member.datamodule.train_indices) // member.datamodule.batch_size)
    limit = plan.limit_train_batches
    return min(batches, int(limit)) if isinstance(limit, int) else int(batches * limit)


def check_pack(members: list[PackMember], plan: PackPlan) -> None:
    """One geometry, and nothing a packed fit would do differently from ``inrzoo fit``."""
    check_geometry(members, plan)
    for member in members:
        check_packable(member.model)


def fit_pack(members: list[PackMember], plan: PackPlan, log: Callable[[str], None] = print) -> list[VideoOutcome]:
    """Fit ``members`` together; each one's outcome (also written as its ``done.json``/``failed.json``)."""
    if not members:
        return []
    check_pack(members, plan)
    steps_per_epoch = _steps(members[0], plan)
    start = time.perf_counter()
    for member in members:
        _prepare(member, plan, steps_per_epoch)
    stack = _Stack(members)
    for epoch in range(min(m.start_epoch for m in members), plan.max_epochs):
        joined = [m for m in members if m.error is None and m.start_epoch <= epoch]
        loaders = []
        for member in joined:
            loader = member.datamodule.train_dataloader()
            loader.sampler.set_epoch(epoch)  # as Lightning does: the order depends on (seed, epoch) only
            loaders.append(iter(loader))
        for batch_idx in range(steps_per_epoch):
            batches = [next(loader) for loader in loaders]
            live = [(m, b) for m, b in zip(joined, batches, strict=True) if m.error is None]
            if live:
                _step(stack, live, batch_idx, plan.device, log)
        for member in joined:
            if member.error is None:
                member.plan.current_epoch = epoch
                save_checkpoint(member, epoch, len(members))
    seconds = (time.perf_counter() - start) / len(members)
    return [_finish(member, seconds, len(members)) for member in members]


def _prepare(member: PackMember, plan: PackPlan, steps_per_epoch: int) -> None:
    """Device, stand-in trainer, optimiser and schedule (the model's own), and the checkpoint to resume."""
    model = member.model.to(plan.device)
    member.plan = _Plan(plan.max_epochs, steps_per_epoch, member.datamodule)
    model.trainer = member.plan
    member.datamodule.setup("fit")
    model.setup("fit")
    model.train()
    optimizers = model.configure_optimizers()
    member.optimizer = optimizers["optimizer"]
    member.scheduler = optimizers["lr_scheduler"]["scheduler"]
    if member.resume is not None:
        checkpoint = torch.load(member.resume, map_location=plan.device, weights_only=True)
        model.on_load_checkpoint(checkpoint)
        model.load_state_dict(checkpoint["state_dict"])
        member.optimizer.load_state_dict(checkpoint["optimizer_states"][0])
        member.scheduler.load_state_dict(checkpoint["lr_schedulers"][0])
        # Checkpoints are written at epoch ends, so the step count is a whole number of epochs.
        member.start_epoch = int(checkpoint["global_step"]) // steps_per_epoch
        member.step = member.start_epoch * steps_per_epoch
    model.on_train_start()


def _member_loss(model: VideoINR, encoder: bool, params: dict, buffers: dict, index: Tensor, frame: Tensor) -> Tensor:
    """One member's training loss, as ``VideoINR.training_step`` computes it, from its own (sliced) state."""
    state = {**params, **buffers}
    if encoder:  # the frame encoder gives the latents (content-adaptive), else the dictionary does
        part = {k.removeprefix("frame_encoder."): v for k, v in state.items() if k.startswith("frame_encoder.")}
        latents = functional_call(model.frame_encoder, part, (frame,))
    else:
        latents = functional_call(model.latents, {"weight": state["latents.weight"]}, (index,))
    prediction = functional_call(model, state, (), {"latents": latents})
    loss = model.loss_fn(prediction, frame)["loss"]
    if model.alignment_objective is not None:  # its head and teacher features are the member's own slices
        part = {k.removeprefix("alignment_objective."): v for k, v in state.items()
                if k.startswith("alignment_objective.")}  # fmt: skip
        align_loss, _ = functional_call(model.alignment_objective, part, (index, latents))
        loss = loss + model.alignment_objective.loss_weight * align_loss
    return loss


class _Stack:
    """The pack's parameters as one tensor per name (members along dim 0), each member's parameter a view of
    its slice: each member's own optimiser updates the stack in place, so a step copies no weights."""

    def __init__(self, members: list[PackMember]) -> None:
        self.members = members
        named = [dict(member.model.named_parameters()) for member in members]
        self.tensors: dict[str, Tensor] = {}
        self.trains = {name: parameter.requires_grad for name, parameter in named[0].items()}
        for name in named[0]:
            # Contiguous (not channels_last): vmap runs a stacked conv as one grouped conv, which on the CPU
            # mixed the members at batch 1 when its weights were channels_last (a pack of 2 ended 0.2 dB from
            # each member alone); the numbers are the same in either memory order, only the speed differs.
            self.tensors[name] = torch.stack([parameters[name].detach().contiguous() for parameters in named])
            for k, parameters in enumerate(named):
                parameters[name].data = self.tensors[name][k]

    def leaves(self, live: list[PackMember]) -> dict[str, Tensor]:
        """Tensors to differentiate for the ``live`` members (the stack itself while every member is live)."""
        if len(live) == len(self.members):
            return {name: t.detach().requires_grad_(self.trains[name]) for name, t in self.tensors.items()}
        rows = torch.tensor(
            [self.members.index(member) for member in live], device=next(iter(self.tensors.values())).device
        )
        return {name: t[rows].detach().requires_grad_(self.trains[name]) for name, t in self.tensors.items()}


def _step(
    stack: _Stack, live: list[tuple[PackMember, dict[str, Tensor]]], batch_idx: int, device: torch.device,
    log: Callable[[str], None],
) -> None:  # fmt: skip
    """One optimiser step of every live member: one batched forward and backward, then each its own Adam step."""
    for member, batch in live:
        member.plan.global_step = member.step
        member.model.on_train_batch_start(batch, batch_idx)  # the frame encoder's handoff
    models = [member.model for member, _ in live]
    encoder = models[0].encoder_active
    params = stack.leaves([member for member, _ in live])
    buffers = {
        name: torch.stack([dict(m.named_buffers())[name] for m in models]) for name, _ in models[0].named_buffers()
    }
    index = torch.stack([batch["index"] for _, batch in live]).to(device)
    frames = torch.stack([batch["frame"] for _, batch in live]).to(device)
    losses = vmap(partial(_member_loss, models[0], encoder))(params, buffers, index, frames)
    losses.sum().backward()  # each member's parameters get only its own loss's gradient
    finite = torch.isfinite(losses.detach()).tolist()
    for k, (member, batch) in enumerate(live):
        if not finite[k]:
            member.error = f"diverged: loss {losses[k].item()} at step {member.step}; the rest of its pack went on"
            log(f"pack: {member.name} {member.error}")
            continue
        for name, parameter in member.model.named_parameters():
            grad = params[name].grad
            parameter.grad = None if grad is None else grad[k]
        if member.model.gradient_clip_norm is not None:  # as Lightning's clip_gradients does for `inrzoo fit`
            optimised = [p for group in member.optimizer.param_groups for p in group["params"]]
            torch.nn.utils.clip_grad_norm_(optimised, member.model.gradient_clip_norm)
        member.optimizer.step()
        member.scheduler.step()
        member.optimizer.zero_grad(set_to_none=True)
        member.model.on_train_batch_end(None, batch, batch_idx)
        member.step += 1


def save_checkpoint(member: PackMember, epoch: int, pack_size: int) -> Path:
    """``run_dir/checkpoints/last.ckpt`` with what Lightning's holds (weights, optimiser and schedule state,
    the config as hyperparameters), written aside and renamed: a kill never leaves a torn file."""
    model, data = member.model, member.datamodule
    checkpoint: dict[str, Any] = {
        "epoch": epoch,
        "global_step": member.step,
        "pytorch-lightning_version": pl.__version__,
        # Cloned: a parameter is a view of the pack's stack, and saving a view would save the whole stack.
        "state_dict": {name: tensor.clone() for name, tensor in model.state_dict().items()},
        "optimizer_states": [member.optimizer.state_dict()],
        "lr_schedulers": [member.scheduler.state_dict()],
        "inrzoo_pack_size": pack_size,
    }
    for owner in (model, data):
        if owner.hparams:
            if hasattr(owner, "_hparams_name"):
                checkpoint[owner.CHECKPOINT_HYPER_PARAMS_NAME] = owner._hparams_name
            checkpoint[owner.CHECKPOINT_HYPER_PARAMS_KEY] = dict(owner.hparams)
    model.on_save_checkpoint(checkpoint)
    path = member.run_dir / "checkpoints" / "last.ckpt"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial_path = path.with_name(".last.ckpt.part")
    torch.save(checkpoint, partial_path)
    os.replace(partial_path, path)
    return path


def _finish(member: PackMember, seconds: float, pack_size: int) -> VideoOutcome:
    """Score a finished member as ``inrzoo fit``'s report does (``metrics.json``) and record its outcome."""
    resumed = str(member.resume) if member.resume else None
    video_dir = member.run_dir.parent
    if member.error is not None:
        outcome = VideoOutcome(member.name, member.video, "failed", str(member.run_dir), resumed, error=member.error)
        write_outcome(outcome, video_dir)
        return outcome
    model = member.model
    model.on_train_end()  # the frame encoder's latents go into the dictionary
    result, _ = evaluate_reconstruction(model, member.datamodule.frames, keep_decoded=False)
    record = {
        **result.as_dict(),
        "train_seconds": seconds,
        "epochs": round(member.step / member.plan.steps_per_epoch, 4),
        "steps": member.step,
        "stopped_by_max_time": False,
        "pack_size": pack_size,
    }
    claim_output(member.run_dir / "metrics.json").write_text(json.dumps(record, indent=2) + "\n")
    outcome = VideoOutcome(
        member.name, member.video, "done", str(member.run_dir), resumed,
        result.psnr, result.ms_ssim, result.params, result.bpp_16bit, seconds,
    )  # fmt: skip
    write_outcome(outcome, video_dir)
    return outcome
