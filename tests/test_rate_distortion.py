"""Rate-aware fitting (issue 15): the fit's bit estimate is the file's size, and the file is the fitted model."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers import REPO_ROOT
from test_cli import error_line, run

from inrzoo.compression import Bitstream, BitstreamError, CompressionSettings, decode_model, quantized_state
from inrzoo.compression.entropy import decode_laplace_stream, encode_laplace_stream
from inrzoo.errors import InrzooError
from inrzoo.models.loading import load_video_inr
from inrzoo.models.rate import TABLE_BITS, RateTerm, laplace_bits
from inrzoo.runs import compress_run
from inrzoo.runs import decode_uint8 as decode_frames

FORMAT1 = REPO_ROOT / "tests" / "data" / "format1.inrz"


def _fit(clip: Path, root: Path, lmbda: float, gop: int = 0) -> SimpleNamespace:
    args = [
        "fit", "--config", str(REPO_ROOT / "configs" / "compress_rd.yaml"), f"--model.init_args.rate.lmbda={lmbda}",
        f"--model.init_args.rate.gop={gop}",
        f"--data.init_args.path={clip}", "--data.init_args.resize=null", "--data.init_args.batch_size=2",
        "--trainer.max_epochs=12", "--trainer.max_time=null", "--trainer.enable_progress_bar=false",
        f"--trainer.logger.init_args.save_dir={root / 'runs'}",
    ]  # fmt: skip
    assert run(args) == 0
    run_dir = root / "runs" / "compress_rd" / "version_0"
    path = root / "video.inrz"
    report = compress_run(run_dir, path, keep_alignment=False)
    return SimpleNamespace(run=run_dir, path=path, report=report)


@pytest.fixture(scope="module")
def fitted(shared_clip_path: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Short fits of the test clip under ``configs/compress_rd.yaml`` at a small and a large lambda."""
    low = _fit(shared_clip_path, tmp_path_factory.mktemp("rate_low"), 0.001)
    high = _fit(shared_clip_path, tmp_path_factory.mktemp("rate_high"), 0.1)
    temporal = _fit(shared_clip_path, tmp_path_factory.mktemp("rate_gop"), 0.001, gop=4)
    return SimpleNamespace(low=low, high=high, temporal=temporal)


def _coded_bytes(stream: Bitstream) -> int:
    """The rate-coded part of a file: the one symbol stream and each tensor's model table, and a latent
    table coded across time (its GOP chunks, model table and step)."""
    tables = sum(entry["table"][1] for entry in stream.header["tensors"] if entry["kind"] == "rate")
    temporal = sum(
        sum(length for _, length in entry["chunks"]) + entry["model"][1] + entry["step"][1]
        for entry in stream.header["tensors"]
        if entry["kind"] == "temporal"
    )
    return stream.header["rate_stream"][1] + tables + temporal


def test_the_file_matches_the_training_time_estimate(fitted: SimpleNamespace) -> None:
    model = load_video_inr(fitted.low.run)
    estimate = model.rate.file_bits(model.rate_tensors()) / 8
    stream = Bitstream.read(fitted.low.path)
    assert {entry["name"] for entry in stream.header["tensors"] if entry["kind"] == "rate"} == set(model.rate.names)
    ratio = _coded_bytes(stream) / estimate
    print(f"coded bytes / estimate = {ratio:.4f}")
    assert abs(ratio - 1) < 0.03, ratio
    # What the estimate leaves out is only what no training can change: the header, the raw buffers, the CRC.
    rest = fitted.low.path.stat().st_size - _coded_bytes(stream)
    assert rest < 0.5 * fitted.low.path.stat().st_size


def test_decoding_the_file_equals_the_hard_quantised_model_bit_for_bit(fitted: SimpleNamespace) -> None:
    original = load_video_inr(fitted.low.run)
    reference = load_video_inr(fitted.low.run)
    reference.load_state_dict(quantized_state(original, CompressionSettings(keep_alignment=False)), strict=False)
    from_file = decode_model(Bitstream.read(fitted.low.path))
    decoded, expected = from_file.state_dict(), reference.state_dict()
    for name in original.rate.names:
        assert torch.equal(decoded[name], expected[name]), name
    frames = list(range(original.latents.num_frames))
    assert torch.equal(decode_frames(from_file, frames), decode_frames(reference, frames))
    assert not torch.equal(decoded["latents.weight"], original.state_dict()["latents.weight"]), "nothing quantised?"


def test_the_fit_validates_what_the_file_decodes(fitted: SimpleNamespace) -> None:
    """The hard path the fit validates with gives the decoder's frames, so logged metrics are the file's."""
    model = load_video_inr(fitted.low.run).eval()
    from_file = decode_model(Bitstream.read(fitted.low.path))
    with torch.no_grad():
        frames, bpp = model.rate_decode(model.latents.weight)
        hard, hard_bpp = model.rate_decode(model.latents.weight, noise=False)
        expected = from_file.decode_latents(from_file.latents.weight)
    assert torch.equal(hard, expected)
    height, width = model.frame_size
    bits = model.rate.file_bits(model.rate_tensors()) - TABLE_BITS * len(model.rate.names)
    assert float(hard_bpp) == pytest.approx(bits / (model.latents.num_frames * height * width), rel=1e-4)
    assert not torch.equal(frames, model.decode_latents(model.latents.weight)), "training decodes quantised too"


def test_latents_coded_across_time_keep_the_rate_terms_symbols(fitted: SimpleNamespace, tmp_path: Path) -> None:
    """--gop codes the rate term's own latent symbols as changes: the decode is the same bit for bit."""
    path = tmp_path / "gop.inrz"
    report = compress_run(fitted.low.run, path, keep_alignment=False, gop=6)
    model = load_video_inr(fitted.low.run)
    expected = quantized_state(model, CompressionSettings(keep_alignment=False))["latents.weight"]
    stream = Bitstream.read(path)
    assert next(e for e in stream.header["tensors"] if e["name"] == "latents.weight")["kind"] == "temporal"
    assert torch.equal(decode_model(stream).latents.weight.detach(), expected)
    assert report["psnr"] == pytest.approx(fitted.low.report["psnr"], abs=1e-6)
    for coded in (report, fitted.low.report):  # the shared rate stream is split by each tensor's estimate
        assert sum(coded["split"].values()) == coded["bytes"] and coded["split"]["latents"] > 0, coded["split"]
    print(f"latents across time: {report['bytes']} bytes, independently: {fitted.low.report['bytes']}")


def test_a_rate_term_across_time_is_the_file_compress_writes_by_default(fitted: SimpleNamespace) -> None:
    """rate.gop: the fit estimates the latents as coded across time, and compress (no --gop given) codes them
    so, with the fit's own models: the file is the estimate and decodes to the hard-quantised model."""
    model = load_video_inr(fitted.temporal.run)
    assert model.rate.is_temporal("latents.weight") and fitted.temporal.report["settings"]["gop"] == 4
    stream = Bitstream.read(fitted.temporal.path)
    entry = next(e for e in stream.header["tensors"] if e["name"] == "latents.weight")
    assert entry["kind"] == "temporal" and entry["gop"] == 4
    ratio = _coded_bytes(stream) / (model.rate.file_bits(model.rate_tensors()) / 8)
    print(f"temporal: coded bytes / estimate = {ratio:.4f}")
    assert abs(ratio - 1) < 0.03, ratio
    expected = quantized_state(model, CompressionSettings(keep_alignment=False, gop=4))
    decoded = decode_model(stream).state_dict()
    for name in model.rate.names:
        assert torch.equal(decoded[name], expected[name]), name
    # The estimate the fit validated with is the file's: the hard path's bits, without the model tables.
    with torch.no_grad():
        _, hard_bpp = model.rate_decode(model.latents.weight, noise=False)
    height, width = model.frame_size
    tables = model.rate.file_bits(model.rate_tensors()) - float(hard_bpp) * model.latents.num_frames * height * width
    assert 0 < tables < 400 * len(model.rate.names), tables


def test_the_temporal_estimate_prices_changes_not_values() -> None:
    """A latent table whose rows repeat costs (almost) only its keys under rate.gop, every row without it;
    its gradient reaches both rows of a change."""
    torch.manual_seed(0)
    steady = torch.randn(1, 16).repeat(24, 1)
    temporal = RateTerm(gop=8).build({"latents.weight": steady})
    independent = RateTerm().build({"latents.weight": steady})
    across_time = temporal.file_bits({"latents.weight": steady})
    on_its_own = independent.file_bits({"latents.weight": steady})
    assert across_time < 0.4 * on_its_own, (across_time, on_its_own)
    table = steady.clone().requires_grad_(True)
    temporal.temporal_bits("latents.weight", table).backward()
    assert table.grad[1].abs().sum() > 0 and table.grad[2].abs().sum() > 0


def test_compress_names_a_gop_other_than_the_fits(
    fitted: SimpleNamespace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "independent.inrz"
    assert run(["compress", str(fitted.temporal.run), "-o", str(path), "--drop-alignment", "--gop", "0"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "latents coded across time (GOP 4) (this file: each latent coded on its own)" in line, line
    assert all(e["kind"] != "temporal" for e in Bitstream.read(path).header["tensors"])
    # The split charges the latents what they cost in this file (coded on their own), not the fit's estimate.
    report = compress_run(fitted.temporal.run, tmp_path / "again.inrz", keep_alignment=False, gop=0)
    model = load_video_inr(fitted.temporal.run)
    latents = {"latents.weight": model.latents.weight}
    on_their_own = model.rate.file_bits(latents, across_time=False) / 8
    assert report["split"]["latents"] == pytest.approx(on_their_own, rel=0.03), (report["split"], on_their_own)
    assert on_their_own > 1.2 * model.rate.file_bits(latents) / 8


def test_a_larger_lambda_gives_a_smaller_file(fitted: SimpleNamespace) -> None:
    assert fitted.high.report["bytes"] < 0.9 * fitted.low.report["bytes"], (fitted.low.report, fitted.high.report)


def test_a_damaged_rate_file_is_refused(fitted: SimpleNamespace) -> None:
    data = fitted.low.path.read_bytes()
    with pytest.raises(BitstreamError, match="checksum"):
        Bitstream.from_bytes(data[:-7])
    stream = Bitstream.from_bytes(data)
    del stream.header["rate_stream"]
    with pytest.raises(BitstreamError, match="no rate stream"):
        decode_model(stream)


def test_compress_reports_the_fit_estimate(
    fitted: SimpleNamespace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["compress", str(fitted.low.run), "-o", str(tmp_path / "x.inrz"), "--drop-alignment"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    estimate = int(line.split("coded part at ")[1].split(" bytes")[0].replace(",", ""))
    size = int(line.split(": ")[1].split(" bytes")[0].replace(",", ""))
    assert estimate == round(fitted.low.report["rate_estimate_bytes"]) and 0.5 * size < estimate < size


def test_the_fit_summary_records_the_files_estimate(fitted: SimpleNamespace) -> None:
    """metrics.json of a rate fit holds the estimate compress reports of the fitted run and the PSNR of
    decoding its file."""
    for fit, gop in ((fitted.low, 0), (fitted.temporal, 4)):
        record = json.loads((fit.run / "metrics.json").read_text())
        assert record["rate_gop"] == gop
        # Scored through the hard quantisation it trained for: the file's quality, not the raw weights'.
        assert record["psnr"] == pytest.approx(fit.report["psnr"], abs=1e-3), (record["psnr"], fit.report["psnr"])
        assert record["rate_estimate_bytes"] == pytest.approx(fit.report["rate_estimate_bytes"], rel=1e-6)
        pixels = fit.report["frames"] * fit.report["height"] * fit.report["width"]
        assert record["rate_estimate_bpp"] == pytest.approx(record["rate_estimate_bytes"] * 8 / pixels)


def test_a_rate_run_folder_decodes_as_its_file(fitted: SimpleNamespace) -> None:
    """interpolate/upscale/eval open the run folder: a rate fit's frames there are its file's, bit for bit."""
    from inrzoo.runs import FittedRun

    for fit in (fitted.low, fitted.temporal):
        opened, received = FittedRun.open(fit.run).model, FittedRun.from_bitstream(fit.path).model
        frames = list(range(opened.latents.num_frames))
        assert torch.equal(decode_frames(opened, frames), decode_frames(received, frames))


def test_a_rate_fit_refuses_a_second_quantisation_stage(
    fitted: SimpleNamespace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["compress", str(fitted.low.run), "-o", str(tmp_path / "x.inrz"), "--qat-epochs", "1"])
    assert code == 2 and "fitted with a rate term" in error_line(capsys)
    assert not (tmp_path / "x.inrz").exists()


def test_format1_files_still_decode() -> None:
    """``tests/data/format1.inrz`` was written by inrzoo before format 2 (git 6447ae1) from an untrained tiny
    model: ``VideoINR`` built by ``lightning.pytorch.cli.instantiate_module`` from ``{"backbone":
    HNeRVBackbone(channels=[8, 6], strides=[5, 2], head_stride=2), "hypernet": FiLMHyperHead(hidden=8),
    "latent_dim": 4, "num_frames": 3, "frame_size": [20, 30]}`` after ``torch.manual_seed(0)``, then
    ``encode_model(model, config, video, CompressionSettings()).write(...)``; decoding it then gave frames
    of mean 127.4882."""
    data = FORMAT1.read_bytes()
    assert int.from_bytes(data[4:6], "little") == 1
    model = decode_model(Bitstream.from_bytes(data))
    frames = decode_frames(model, [0, 1, 2])
    assert frames.shape == (3, 3, 20, 30)
    assert abs(float(frames.float().mean()) - 127.4882) < 0.05
    assert model.rate is None


def test_laplace_bits_are_a_code_length() -> None:
    """Over the symbols' range (the tails on its ends) the probabilities sum to one: a distribution, as the coder's."""
    symbols = torch.arange(-20, 21).float()
    bits = laplace_bits(symbols, torch.tensor(0.3), torch.tensor(2.5))
    assert float((2.0**-bits).sum()) == pytest.approx(1.0, abs=1e-4)


def test_rate_options_are_checked() -> None:
    with pytest.raises(InrzooError, match="lmbda"):
        RateTerm(lmbda=-1.0)


def test_the_laplace_stream_round_trips_with_constant_tensors() -> None:
    symbols = [np.array([3, -1, 0, 5]), np.full(7, 2), np.array([0, 1])]
    groups = [(4, 0.5, 2.0, -1, 5), (7, 0.0, 1.0, 2, 2), (2, 0.0, 1.0, 0, 1)]
    data = encode_laplace_stream(symbols, groups)
    assert all(np.array_equal(a, b) for a, b in zip(decode_laplace_stream(data, groups), symbols, strict=True))
    assert len(data) == len(encode_laplace_stream([symbols[0], symbols[2]], [groups[0], groups[2]])), "constant: free"


def test_a_bad_lambda_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["fit", "--config", str(REPO_ROOT / "configs" / "compress_rd.yaml"), "--model.init_args.rate.lmbda=-1"]
    assert run(args) == 2
    assert "model.init_args.rate.init_args.lmbda: got -1" in error_line(capsys)
