"""Model <-> bitstream: quantise every tensor, entropy-code it, and rebuild the model from the file alone."""

from __future__ import annotations

import copy
import fnmatch
import struct
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from inrzoo.compression.bitstream import Bitstream, BitstreamError, check_model_config
from inrzoo.compression.entropy import (
    CodedSymbols,
    LaplaceGroup,
    decode_laplace_stream,
    decode_symbols,
    encode_laplace_stream,
    encode_symbols,
)
from inrzoo.compression.quantize import QuantizedTensor, best_quantization, prune_smallest
from inrzoo.errors import InrzooError
from inrzoo.options import check_options, integers, numbers

if TYPE_CHECKING:
    from inrzoo.models.video_inr import VideoINR

#: Tensors quantised at ``latent_bits``; every other float tensor gets ``weight_bits``.
LATENT_TENSORS = ("latents.weight",)
#: Tensors that are needed only for retrieval, dropped with ``keep_alignment=False`` (files before 0.2 call them
#: ``alignment_head.*``, ``teacher_mean`` and ``teacher_spread``: the model renames them as it loads them).
ALIGNMENT_TENSORS = ("alignment_objective.*",)
#: Tensors that only serve training (the frame encoder's outputs are already in the latents): never stored.
TRAINING_ONLY_TENSORS = ("frame_encoder.*", "encoder_retired", "rate.*")
#: A rate-coded tensor's model in the payload: step, Laplace location and scale (float32), symbol range (int32).
_RATE_TABLE = struct.Struct("<fffii")


@dataclass(frozen=True)
class CompressionSettings:
    """How a model is turned into a file.

    Args:
        weight_bits: bits per hypernetwork/backbone weight.
        latent_bits: bits per latent entry.
        prune: fraction of each weight matrix's smallest-magnitude entries set to zero first.
        keep_alignment: keep the alignment head (retrieval from the file); it is not needed to decode frames.
    """

    weight_bits: int = 8
    latent_bits: int = 6
    prune: float = 0.0
    keep_alignment: bool = True

    option_ranges = {
        "weight_bits": integers(2, 16),
        "latent_bits": integers(2, 16),
        "prune": numbers(0, 1, high_open=True),
    }

    def __post_init__(self) -> None:
        check_options(self, vars(self), name=lambda key: f"--{key.replace('_', '-')}")


def _is(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _prunable(name: str, tensor: Tensor) -> bool:
    return name.endswith(".weight") and tensor.dim() >= 2 and not _is(name, LATENT_TENSORS)


def prepared_state(model: VideoINR, settings: CompressionSettings) -> dict[str, Tensor]:
    """The tensors that go into the file (pruned, not yet quantised)."""
    state = {}
    for name, tensor in model.state_dict().items():
        if _is(name, TRAINING_ONLY_TENSORS) or (not settings.keep_alignment and _is(name, ALIGNMENT_TENSORS)):
            continue
        tensor = tensor.detach().cpu()
        if settings.prune and tensor.is_floating_point() and _prunable(name, tensor):
            tensor = prune_smallest(tensor, settings.prune)
        state[name] = tensor
    return state


def _quantizable(tensor: Tensor) -> bool:
    return tensor.is_floating_point() and tensor.numel() >= 2


def quantized_state(model: VideoINR, settings: CompressionSettings) -> dict[str, Tensor]:
    """What decoding the file gives back, computed in memory (the reference the round trip must equal)."""
    state = {}
    rate = model.rate
    for name, tensor in prepared_state(model, settings).items():
        if rate is not None and name in rate:
            tensor = rate.dequantize(name, rate.symbols(name, tensor)).to(tensor.dtype)
        elif _quantizable(tensor):
            bits = settings.latent_bits if _is(name, LATENT_TENSORS) else settings.weight_bits
            tensor = best_quantization(tensor, bits).dequantize().to(tensor.dtype)
        state[name] = tensor
    return state


class _Payload:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, data: bytes) -> list[int]:
        span = [self.size, len(data)]
        self.chunks.append(data)
        self.size += len(data)
        return span


def _raw_bytes(tensor: Tensor) -> tuple[bytes, str]:
    if tensor.dtype == torch.bool:
        return np.packbits(tensor.numpy().ravel()).tobytes(), "bool"
    array = tensor.numpy()
    return array.astype(array.dtype.newbyteorder("<")).tobytes(), str(array.dtype)


def encode_model(
    model: VideoINR, model_config: dict[str, Any], video: dict[str, Any], settings: CompressionSettings
) -> Bitstream:
    """The bitstream of a fitted model; ``model_config`` is what rebuilds it (the hyperparameters the CLI saved)."""
    payload = _Payload()
    entries = []
    rate = model.rate
    rate_symbols: list[np.ndarray] = []
    rate_groups: list[LaplaceGroup] = []
    for name, tensor in prepared_state(model, settings).items():
        entry: dict[str, Any] = {"name": name, "shape": list(tensor.shape)}
        if rate is not None and name in rate:
            # The symbols and models the fit estimated its bits with, coded in one stream after the loop.
            symbols = rate.symbols(name, tensor).numpy()
            loc, scale = rate.model(name)
            step = float(rate.step(name).detach())
            table = _RATE_TABLE.pack(step, loc, scale, int(symbols.min()), int(symbols.max()))
            rate_symbols.append(symbols)
            _, *stored = _RATE_TABLE.unpack(table)  # the float32 values the decoder reads
            rate_groups.append((symbols.size, *stored))
            entry.update(kind="rate", dtype=str(tensor.dtype).removeprefix("torch."), table=payload.add(table))
        elif _quantizable(tensor):
            bits = settings.latent_bits if _is(name, LATENT_TENSORS) else settings.weight_bits
            quantized = best_quantization(tensor, bits)
            coded = encode_symbols(quantized.symbols.numpy(), bits)
            groups = torch.stack([quantized.low, quantized.step]).numpy().astype("<f4").tobytes()
            entry.update(
                kind="quantized", dtype=str(tensor.dtype).removeprefix("torch."), bits=bits, axis=quantized.axis,
                coder=coded.coder, params=coded.params, groups=payload.add(groups),
                table=payload.add(coded.table), data=payload.add(coded.data),
            )  # fmt: skip
        else:
            raw, dtype = _raw_bytes(tensor)
            entry.update(kind="raw", dtype=dtype, data=payload.add(raw))
        entries.append(entry)
    config = copy.deepcopy(model_config)
    config["frame_encoder"] = None  # decoding needs only the latents it produced
    if not settings.keep_alignment:
        config["alignment"] = None
    header = {"model": config, "video": video, "settings": asdict(settings), "tensors": entries}
    if rate_groups:
        header["rate_stream"] = payload.add(encode_laplace_stream(rate_symbols, rate_groups))
    return Bitstream(header, b"".join(payload.chunks))


def _slice(payload: bytes, span: list[int], name: str) -> bytes:
    start, length = span
    if start + length > len(payload):
        raise BitstreamError(f"tensor {name} lies outside the payload: the file is corrupted; re-create it")
    return payload[start : start + length]


def _decode_rate_tensors(stream: Bitstream, entries: list[dict[str, Any]]) -> dict[str, Tensor]:
    """The rate-coded tensors (format 2): per tensor a model table, then one Laplace-coded stream for all."""
    tables, groups = [], []
    for entry in entries:
        table = _slice(stream.payload, entry["table"], entry["name"])
        if len(table) != _RATE_TABLE.size:
            raise BitstreamError(f"tensor {entry['name']} has a damaged model table: the file is corrupted")
        step, *model = _RATE_TABLE.unpack(table)
        tables.append(step)
        groups.append((int(np.prod(entry["shape"])) if entry["shape"] else 1, *model))
    if "rate_stream" not in stream.header:
        raise BitstreamError("the bitstream has rate-coded tensors but no rate stream: the file is corrupted")
    data = _slice(stream.payload, stream.header["rate_stream"], "rate stream")
    try:
        decoded = decode_laplace_stream(data, groups)
    except (ValueError, RuntimeError, AssertionError) as err:  # constriction's errors on a damaged stream
        raise BitstreamError(f"the rate stream does not decode ({err}): the file is corrupted") from err
    state = {}
    for entry, step, symbols in zip(entries, tables, decoded, strict=True):
        values = torch.from_numpy(symbols.copy()).reshape(entry["shape"]).float() * torch.tensor(step)
        state[entry["name"]] = values.to(getattr(torch, entry["dtype"]))
    return state


def decode_state(stream: Bitstream) -> dict[str, Tensor]:
    state = {}
    rate_entries = [entry for entry in stream.header["tensors"] if entry["kind"] == "rate"]
    if rate_entries:
        state.update(_decode_rate_tensors(stream, rate_entries))
    for entry in stream.header["tensors"]:
        name, shape = entry["name"], tuple(entry["shape"])
        if entry["kind"] == "rate":
            continue
        count = int(np.prod(shape)) if shape else 1
        data = _slice(stream.payload, entry["data"], name)
        if entry["kind"] == "raw":
            if entry["dtype"] == "bool":
                bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))[:count].astype(bool)
                state[name] = torch.from_numpy(bits.copy()).reshape(shape)
            else:
                array = np.frombuffer(data, dtype=np.dtype(entry["dtype"]).newbyteorder("<"))
                state[name] = torch.from_numpy(array.astype(np.dtype(entry["dtype"])).copy()).reshape(shape)
            continue
        coded = CodedSymbols(entry["coder"], entry["params"], _slice(stream.payload, entry["table"], name), data)
        symbols = decode_symbols(coded, entry["bits"], count)
        groups = np.frombuffer(_slice(stream.payload, entry["groups"], name), dtype="<f4").reshape(2, -1)
        quantized = QuantizedTensor(
            torch.from_numpy(symbols.astype(np.int32)).reshape(shape), torch.from_numpy(groups[0].copy()),
            torch.from_numpy(groups[1].copy()), entry["bits"], entry["axis"],
        )  # fmt: skip
        state[name] = quantized.dequantize().to(getattr(torch, entry["dtype"]))
    return state


def decode_model(stream: Bitstream) -> VideoINR:
    """Rebuild the model from the file alone: its config, then its (dequantised) tensors."""
    from lightning.pytorch.cli import instantiate_module

    from inrzoo.models.loading import public_config
    from inrzoo.models.video_inr import VideoINR

    check_model_config(stream.header, "in memory")
    config = public_config(stream.header["model"]) or {}
    try:
        model = instantiate_module(VideoINR, config)
    except Exception as err:
        raise InrzooError(
            f"cannot rebuild the model stored in the bitstream ({type(err).__name__}: "
            f"{str(err).splitlines()[0][:200]}); "
            "install the plugins it was made with"
        ) from err
    missing, unexpected = model.load_state_dict(decode_state(stream), strict=False)
    if unexpected or [m for m in missing if not _is(m, ALIGNMENT_TENSORS + TRAINING_ONLY_TENSORS)]:
        raise BitstreamError(f"the bitstream's tensors do not match its model (missing {missing}, extra {unexpected})")
    return model.eval()
