"""Model <-> bitstream: quantise every tensor, entropy-code it, and rebuild the model from the file alone."""

from __future__ import annotations

import copy
import fnmatch
import struct
from dataclasses import asdict, dataclass, replace
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
from inrzoo.compression.temporal import TemporalModel, decode_gop, encode_gops, fit_model, gop_ranges
from inrzoo.errors import InrzooError
from inrzoo.options import check_options, integers, numbers

if TYPE_CHECKING:
    from inrzoo.models.video_inr import VideoINR

#: Tensors quantised at ``latent_bits``; every other float tensor gets ``weight_bits``.
LATENT_TENSORS = ("latents.weight",)
#: Tensors that are needed only for retrieval, dropped with ``keep_alignment=False`` (files before 0.2 call them
#: ``alignment_head.*``, ``teacher_mean`` and ``teacher_spread``: the model renames them as it loads them).
ALIGNMENT_TENSORS = ("alignment_objective.*",)
#: The LLM bridge (``inrzoo chat``): stored like the alignment head, counted apart from the decoder.
BRIDGE_TENSORS = ("llm_bridge.*",)
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
        gop: code the latents across time (:mod:`inrzoo.compression.temporal`): a key latent every ``gop``
            frames, the others as their change from the previous frame; 0: each latent on its own.
    """

    weight_bits: int = 8
    latent_bits: int = 6
    prune: float = 0.0
    keep_alignment: bool = True
    gop: int = 0

    option_ranges = {
        "weight_bits": integers(2, 16),
        "latent_bits": integers(2, 16),
        "prune": numbers(0, 1, high_open=True),
        "gop": integers(0, 2**31 - 1),
    }

    def __post_init__(self) -> None:
        check_options(self, vars(self), name=lambda key: f"--{key.replace('_', '-')}")

    @classmethod
    def for_model(cls, model: VideoINR, gop: int | None = None, **given: Any) -> CompressionSettings:
        """The settings ``inrzoo compress`` writes ``model``'s file with: ``given`` over the defaults, the latents
        coded across time every ``gop`` frames (None: at the GOP the fit's rate term estimated them at, else 0)."""
        fitted_gop = model.rate.gop if model.rate is not None else 0
        return cls(**given, gop=fitted_gop if gop is None else gop)


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
            tensor = _quantization(name, tensor, settings).dequantize().to(tensor.dtype)
        state[name] = tensor
    return state


def _temporal(name: str, tensor: Tensor, settings: CompressionSettings) -> bool:
    return settings.gop > 0 and _is(name, LATENT_TENSORS) and tensor.dim() == 2


def _quantization(name: str, tensor: Tensor, settings: CompressionSettings) -> QuantizedTensor:
    """A tensor's quantisation outside a rate term; latents coded across time keep one quantiser per
    channel over all frames (so the change of a symbol from one frame to the next means one thing)."""
    if _is(name, LATENT_TENSORS):
        return best_quantization(
            tensor, settings.latent_bits, whole_axis=0 if _temporal(name, tensor, settings) else None
        )
    return best_quantization(tensor, settings.weight_bits)


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
        if _temporal(name, tensor, settings):
            entry.update(_encode_temporal(name, tensor, settings, rate, payload))
        elif rate is not None and name in rate:
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
            quantized = _quantization(name, tensor, settings)
            bits = quantized.bits
            coded = encode_symbols(quantized.symbols.numpy(), bits)
            entry.update(
                kind="quantized", dtype=str(tensor.dtype).removeprefix("torch."), bits=bits, axis=quantized.axis,
                coder=coded.coder, params=coded.params, groups=payload.add(_groups_bytes(quantized)),
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


def _encode_temporal(
    name: str, tensor: Tensor, settings: CompressionSettings, rate: Any, payload: _Payload
) -> dict[str, Any]:
    """A (T, D) latent table as one chunk per GOP (its symbols are the rate term's, or a shared quantiser's)."""
    entry: dict[str, Any] = {"kind": "temporal", "dtype": str(tensor.dtype).removeprefix("torch."), "gop": settings.gop}
    if rate is not None and name in rate:
        symbols = rate.symbols(name, tensor).numpy()
        entry["step"] = payload.add(np.float32(rate.step(name).detach()).astype("<f4").tobytes())
    else:
        quantized = _quantization(name, tensor, settings)
        symbols = quantized.symbols.numpy()
        entry.update(bits=quantized.bits, axis=quantized.axis, groups=payload.add(_groups_bytes(quantized)))
    model = fit_model(symbols, settings.gop)
    if rate is not None and rate.is_temporal(name) and rate.gop == settings.gop:
        model = _rate_temporal_model(rate, name, model)
    entry["model"] = payload.add(model.to_bytes())
    entry["chunks"] = [payload.add(chunk) for chunk in encode_gops(symbols, settings.gop, model)]
    return entry


def _rate_temporal_model(rate: Any, name: str, fitted: TemporalModel) -> TemporalModel:
    """The models the fit estimated its latents' bits with (so the file is the estimate), on the coded
    symbols' own ranges (``fitted``'s)."""
    key_loc, key_scale = rate.model(name)
    change_loc, change_scale = rate.change_model()
    return replace(fitted, key_loc=key_loc, key_scale=key_scale, change_loc=change_loc, change_scale=change_scale)


def decode_temporal(stream: Bitstream, entry: dict[str, Any], frames: list[int] | None = None) -> tuple[Tensor, int]:
    """A temporally coded latent table, and how many of its rows were entropy-decoded.

    ``frames``: only the GOPs holding these frames are read, each up to its last asked frame (random
    access: at most G rows per frame asked, whatever the frame's index); the other rows are NaN.
    """
    name, (num_frames, width), gop = entry["name"], entry["shape"], int(entry["gop"])
    try:
        model = TemporalModel.from_bytes(_slice(stream.payload, entry["model"], name))
    except ValueError as err:
        raise BitstreamError(f"tensor {name} has a damaged model table ({err}): the file is corrupted") from None
    ranges = gop_ranges(num_frames, gop)
    if len(entry["chunks"]) != len(ranges):
        raise BitstreamError(f"tensor {name} has {len(entry['chunks'])} GOP chunks, not {len(ranges)}: corrupted")
    wanted = range(num_frames) if frames is None else sorted(set(frames))
    last_asked: dict[int, int] = {}
    for t in wanted:
        last_asked[t // gop] = t
    symbols = np.zeros((num_frames, width), dtype=np.int64)
    rows = 0
    for g, last in last_asked.items():
        first = ranges[g].start
        data = _slice(stream.payload, entry["chunks"][g], name)
        try:
            symbols[first : last + 1] = decode_gop(data, first, last - first + 1, width, gop, model)
        except (ValueError, RuntimeError, AssertionError) as err:
            raise BitstreamError(f"tensor {name}'s GOP {g} does not decode ({err}): the file is corrupted") from err
        rows += last - first + 1
    if "step" in entry:
        (step,) = np.frombuffer(_slice(stream.payload, entry["step"], name), dtype="<f4")
        values = torch.from_numpy(symbols.astype(np.int32)).float() * torch.tensor(float(step))
    else:
        values = _stored_quantization(stream, entry, symbols).dequantize()
    if frames is not None:
        decoded = torch.zeros(num_frames, dtype=torch.bool)
        decoded[list(wanted)] = True
        values[~decoded] = float("nan")
    return values.to(getattr(torch, entry["dtype"])), rows


def _groups_bytes(quantized: QuantizedTensor) -> bytes:
    """A quantiser's (low, step) per group as the file stores them: float32, the lows then the steps."""
    return torch.stack([quantized.low, quantized.step]).numpy().astype("<f4").tobytes()


def _stored_quantization(stream: Bitstream, entry: dict[str, Any], symbols: np.ndarray) -> QuantizedTensor:
    """Decoded symbols with their entry's stored quantiser (the inverse of :func:`_groups_bytes`)."""
    groups = np.frombuffer(_slice(stream.payload, entry["groups"], entry["name"]), dtype="<f4").reshape(2, -1)
    return QuantizedTensor(
        torch.from_numpy(symbols.astype(np.int32)), torch.from_numpy(groups[0].copy()),
        torch.from_numpy(groups[1].copy()), entry["bits"], entry["axis"],
    )  # fmt: skip


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


def decode_state(stream: Bitstream, latent_rows: list[int] | None = None) -> dict[str, Tensor]:
    """Every stored tensor; ``latent_rows``: temporally coded latents only for these rows (see
    :func:`decode_temporal`)."""
    state = {}
    rate_entries = [entry for entry in stream.header["tensors"] if entry["kind"] == "rate"]
    if rate_entries:
        state.update(_decode_rate_tensors(stream, rate_entries))
    for entry in stream.header["tensors"]:
        if entry["kind"] == "temporal":
            state[entry["name"]] = decode_temporal(stream, entry, latent_rows)[0]
        elif entry["kind"] != "rate":
            state[entry["name"]] = _decode_plain(stream, entry)
    return state


def _decode_plain(stream: Bitstream, entry: dict[str, Any]) -> Tensor:
    """A raw or independently quantised tensor."""
    name, shape = entry["name"], tuple(entry["shape"])
    count = int(np.prod(shape)) if shape else 1
    data = _slice(stream.payload, entry["data"], name)
    if entry["kind"] == "raw":
        if entry["dtype"] == "bool":
            bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))[:count].astype(bool)
            return torch.from_numpy(bits.copy()).reshape(shape)
        array = np.frombuffer(data, dtype=np.dtype(entry["dtype"]).newbyteorder("<"))
        return torch.from_numpy(array.astype(np.dtype(entry["dtype"])).copy()).reshape(shape)
    coded = CodedSymbols(entry["coder"], entry["params"], _slice(stream.payload, entry["table"], name), data)
    symbols = decode_symbols(coded, entry["bits"], count)
    quantized = _stored_quantization(stream, entry, symbols.reshape(shape))
    return quantized.dequantize().to(getattr(torch, entry["dtype"]))


def latent_rows_for(stream: Bitstream, frames: list[int]) -> list[int] | None:
    """The latent rows decoding ``frames`` reads: a trained frame its own, a held-out one its trained
    neighbours (linear blending), or every row when the model interpolates with a fitted task head
    (which reads them all); None: all rows."""
    from inrzoo.models.latent_dictionary import trained_neighbours

    if (stream.header.get("model") or {}).get("interpolator") is not None:
        return None
    entry = next((e for e in stream.header["tensors"] if e["name"] == "latents.trained"), None)
    if entry is None:
        return list(frames)
    trained = _decode_plain(stream, entry)
    if not trained.any():
        return None
    left, right, _ = trained_neighbours(trained, torch.as_tensor(frames))
    return sorted(set(left.tolist()) | set(right.tolist()))


def decode_model(stream: Bitstream, frames: list[int] | None = None) -> VideoINR:
    """Rebuild the model from the file alone: its config, then its (dequantised) tensors.

    ``frames``: random access: latents coded across time are decoded only where decoding these frames
    reads them (:func:`latent_rows_for`; the other rows are NaN); the model then decodes only those frames."""
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
    rows = None if frames is None else latent_rows_for(stream, frames)
    missing, unexpected = model.load_state_dict(decode_state(stream, rows), strict=False)
    if unexpected or [m for m in missing if not _is(m, ALIGNMENT_TENSORS + TRAINING_ONLY_TENSORS)]:
        raise BitstreamError(f"the bitstream's tensors do not match its model (missing {missing}, extra {unexpected})")
    return model.eval()


#: The parts of a file :func:`file_split` counts, in bytes.
SPLIT_PARTS = ("latents", "weights", "alignment", "bridge", "models", "other")


def _part(name: str) -> str:
    if _is(name, LATENT_TENSORS):
        return "latents"
    if _is(name, BRIDGE_TENSORS):
        return "bridge"
    return "alignment" if _is(name, ALIGNMENT_TENSORS) else "weights"


def file_split(stream: Bitstream, size: int, rate_shares: dict[str, float] | None = None) -> dict[str, int]:
    """Where a file's bytes go: coded latents, coded weights (backbone and hypernetworks), the alignment head, the
    LLM bridge,
    the entropy models and quantisers (``models``: tables, groups, rate-term steps) and ``other`` (header,
    raw buffers, checksum; ``size`` is the file's bytes). The one rate stream is shared among its tensors
    by ``rate_shares`` (each tensor's estimated bits; equal shares without)."""
    split = dict.fromkeys(SPLIT_PARTS, 0)
    rate_names = [e["name"] for e in stream.header["tensors"] if e["kind"] == "rate"]
    for entry in stream.header["tensors"]:
        part = _part(entry["name"])
        for key in ("table", "groups", "model", "step"):
            if key in entry and entry["kind"] != "raw":
                split["models"] += entry[key][1]
        if entry["kind"] == "quantized":
            split[part] += entry["data"][1]
        elif entry["kind"] == "temporal":
            split[part] += sum(length for _, length in entry["chunks"])
    if rate_names:
        shares = {n: (rate_shares or {}).get(n, 1.0) for n in rate_names}
        total, stream_bytes = sum(shares.values()) or 1.0, stream.header["rate_stream"][1]
        for name, share in shares.items():
            split[_part(name)] += round(stream_bytes * share / total)
    split["other"] = size - sum(split.values())
    return split


def coded_parameter_count(stream: Bitstream) -> int:
    """The floats a decoder needs (latents, backbone and hypernetworks; not the alignment head, nor the LLM bridge)."""
    return sum(
        int(np.prod(entry["shape"])) if entry["shape"] else 1
        for entry in stream.header["tensors"]
        if _part(entry["name"]) not in {"alignment", "bridge"} and getattr(torch, entry["dtype"]).is_floating_point
    )
