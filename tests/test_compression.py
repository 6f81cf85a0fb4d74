"""Compression: .inrz files round-trip exactly, cost what they weigh, and refuse to be garbage."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers import REPO_ROOT
from test_cli import decode, error_line, run

from inrzoo.compression import (
    Bitstream,
    BitstreamError,
    CompressionSettings,
    best_quantization,
    decode_model,
    prune_smallest,
    quantize,
    quantized_state,
)
from inrzoo.compression.entropy import CodedSymbols, decode_symbols, encode_symbols
from inrzoo.errors import InrzooError
from inrzoo.models.loading import load_video_inr
from inrzoo.runs import compress_run
from inrzoo.runs import decode_uint8 as decode_frames


@pytest.fixture(scope="module")
def fitted(shared_clip_path: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A short quickstart fit of the test clip, every other frame held out (so the file must keep that too)."""
    root = tmp_path_factory.mktemp("compress")
    args = [
        "fit", "--config", str(REPO_ROOT / "configs" / "quickstart.yaml"),
        f"--data.init_args.path={shared_clip_path}", "--data.init_args.resize=null", "--data.init_args.train_every=2",
        "--data.init_args.batch_size=2", "--trainer.max_epochs=25", "--trainer.max_time=null",
        "--trainer.enable_progress_bar=false", f"--trainer.logger.init_args.save_dir={root / 'runs'}",
    ]  # fmt: skip
    assert run(args) == 0
    run_dir = root / "runs" / "quickstart" / "version_0"
    path = root / "video.inrz"
    report = compress_run(run_dir, path)
    return SimpleNamespace(run=run_dir, path=path, report=report, root=root)


# -- the file -----------------------------------------------------------------------------------
def test_decoding_the_file_equals_the_quantised_model_exactly(fitted: SimpleNamespace) -> None:
    original = load_video_inr(fitted.run)
    reference = load_video_inr(fitted.run)
    missing, unexpected = reference.load_state_dict(quantized_state(original, CompressionSettings()), strict=False)
    # The file leaves out only what serves training (the quickstart's frame encoder).
    assert not unexpected and all(name.startswith("frame_encoder.") or name == "encoder_retired" for name in missing)
    from_file = decode_model(Bitstream.read(fitted.path))
    frames = list(range(original.latents.num_frames))
    assert torch.equal(decode_frames(from_file, frames), decode_frames(reference, frames))
    assert not torch.equal(decode_frames(from_file, frames), decode_frames(original, frames)), "nothing was quantised?"


def test_bpp_is_the_file_size(fitted: SimpleNamespace) -> None:
    size = fitted.path.stat().st_size
    assert fitted.report["bytes"] == size
    assert fitted.report["bpp"] == pytest.approx(size * 8 / (12 * 40 * 60))


def test_the_file_decodes_close_to_the_model(fitted: SimpleNamespace) -> None:
    from inrzoo.data import VideoDataModule
    from inrzoo.evaluation import evaluate_reconstruction

    model = load_video_inr(fitted.run)
    unquantised, _ = evaluate_reconstruction(model, VideoDataModule(path=_clip(fitted), cache_dir=None).frames)
    assert fitted.report["psnr"] > unquantised.psnr - 1.5, (fitted.report["psnr"], unquantised.psnr)
    # The file is far smaller than the 32-bit model.
    assert fitted.report["bytes"] < model.parameter_count() * 4 / 3


def _clip(fitted: SimpleNamespace) -> str:
    import yaml

    return yaml.safe_load((fitted.run / "config.yaml").read_text())["data"]["init_args"]["path"]


def test_the_report_splits_the_file_into_its_parts(fitted: SimpleNamespace, gop_file: SimpleNamespace) -> None:
    for report in (fitted.report, gop_file.report):
        split = report["split"]
        assert sum(split.values()) == report["bytes"] and min(split.values()) >= 0, split
        assert split["latents"] > 0 and split["weights"] > split["latents"] and split["models"] > 0, split
        assert 1 < report["bits_per_parameter"] < 8, report
    assert gop_file.report["split"]["weights"] == fitted.report["split"]["weights"]


def test_fewer_bits_make_a_smaller_file(fitted: SimpleNamespace) -> None:
    small = compress_run(fitted.run, fitted.root / "small.inrz", weight_bits=5, latent_bits=4)
    assert small["bytes"] < fitted.report["bytes"]
    # A fit this short (17 dB) can lose nothing measurable at 5/4 bits; at 3/2 bits it must.
    coarse = compress_run(fitted.run, fitted.root / "coarse.inrz", weight_bits=3, latent_bits=2)
    assert coarse["bytes"] < small["bytes"] and coarse["psnr"] < fitted.report["psnr"]
    pruned = compress_run(fitted.run, fitted.root / "pruned.inrz", prune=0.5)
    assert pruned["bytes"] < fitted.report["bytes"]


# -- latents coded across time (--gop) ------------------------------------------------------------
@pytest.fixture(scope="module")
def gop_file(fitted: SimpleNamespace) -> SimpleNamespace:
    path = fitted.root / "gop4.inrz"
    return SimpleNamespace(path=path, report=compress_run(fitted.run, path, gop=4))


def test_a_gop_file_decodes_to_the_quantised_model_exactly(fitted: SimpleNamespace, gop_file: SimpleNamespace) -> None:
    settings = CompressionSettings(gop=4)
    expected = quantized_state(load_video_inr(fitted.run), settings)["latents.weight"]
    stream = Bitstream.read(gop_file.path)
    entry = next(e for e in stream.header["tensors"] if e["name"] == "latents.weight")
    assert entry["kind"] == "temporal" and len(entry["chunks"]) == 3  # 12 frames, a key every 4
    from_file = decode_model(stream)
    assert torch.equal(from_file.latents.weight.detach(), expected)
    # The weights are the same file's as without --gop; only the latents' coding differs.
    plain = decode_model(Bitstream.read(fitted.path)).state_dict()
    for name, tensor in from_file.state_dict().items():
        if name != "latents.weight":
            assert torch.equal(tensor, plain[name]), name
    assert abs(gop_file.report["psnr"] - fitted.report["psnr"]) < 0.3


def test_random_access_decodes_at_most_a_gop_whatever_the_frame(gop_file: SimpleNamespace) -> None:
    from inrzoo.compression.codec import decode_temporal

    stream = Bitstream.read(gop_file.path)
    entry = next(e for e in stream.header["tensors"] if e["name"] == "latents.weight")
    full, rows = decode_temporal(stream, entry)
    assert rows == 12
    for k in range(12):
        latent, rows = decode_temporal(stream, entry, [k])
        assert rows == k % 4 + 1 <= 4, (k, rows)  # grows with the position in the GOP, never with k
        assert torch.equal(latent[k], full[k])
        assert torch.isnan(latent[[t for t in range(12) if t != k]]).all(), "only frame k was decoded"


def test_decompress_one_frame_of_a_gop_file_equals_the_full_decode(gop_file: SimpleNamespace, tmp_path: Path) -> None:
    """Frame by frame (``--batch-size 1``) on both sides: a conv over a batch of 8 frames and over one frame runs
    different CPU kernels, whose float sums can differ in the last bits and move a pixel on a rounding boundary
    by one level; the latents random access decodes are the full decode's exactly (the tests above)."""
    one = ["--batch-size", "1"]
    assert run(["decompress", str(gop_file.path), "-o", str(tmp_path / "all"), *one]) == 0
    for k in ("6", "11", "0:3"):
        out = tmp_path / k.replace(":", "_")
        assert run(["decompress", str(gop_file.path), "-o", str(out), "--frames", k, *one]) == 0
        for png in out.glob("*.png"):
            assert png.read_bytes() == (tmp_path / "all" / png.name).read_bytes(), (k, png.name)


def test_gop_files_use_format_3_and_others_stay_readable_by_format_2(
    fitted: SimpleNamespace, gop_file: SimpleNamespace
) -> None:
    version = lambda path: struct.unpack_from("<H", path.read_bytes(), 4)[0]  # noqa: E731
    assert version(gop_file.path) == 3 and version(fitted.path) == 2


def test_a_damaged_gop_chunk_is_refused(gop_file: SimpleNamespace) -> None:
    stream = Bitstream.read(gop_file.path)
    entry = next(e for e in stream.header["tensors"] if e["name"] == "latents.weight")
    entry["chunks"] = entry["chunks"][:-1]
    with pytest.raises(BitstreamError, match="GOP chunks"):
        decode_model(stream)


# -- the commands -------------------------------------------------------------------------------
def test_decompress_writes_all_frames_or_a_range(fitted: SimpleNamespace, tmp_path: Path) -> None:
    assert run(["decompress", str(fitted.path), "-o", str(tmp_path / "all")]) == 0
    assert run(["decompress", str(fitted.path), "-o", str(tmp_path / "some"), "--frames", "3:7"]) == 0
    assert run(["decompress", str(fitted.path), "-o", str(tmp_path / "one"), "--frames", "-1"]) == 0
    every = sorted((tmp_path / "all").glob("*.png"))
    assert len(every) == 12
    some = sorted(p.name for p in (tmp_path / "some").glob("*.png"))
    assert some == [f"frame_{i:06d}.png" for i in range(3, 7)]
    for name in some + ["frame_000011.png"]:
        folder = "some" if name in some else "one"
        assert (tmp_path / folder / name).read_bytes() == (tmp_path / "all" / name).read_bytes(), name
    assert run(["decompress", str(fitted.path), "-o", str(tmp_path / "out.mp4")]) == 0
    assert decode(tmp_path / "out.mp4").shape == (12, 3, 40, 60)


def test_compress_command_reports_size_and_quality(fitted: SimpleNamespace, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "cli.inrz"
    assert run(["compress", str(fitted.run), "-o", str(out), "--weight-bits", "6", "--latent-bits", "5"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert f"{out.stat().st_size:,} bytes" in line and "bpp" in line and "PSNR" in line and "MS-SSIM" in line


def test_outputs_are_never_overwritten(fitted: SimpleNamespace, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    before = fitted.path.read_bytes()
    assert run(["compress", str(fitted.run), "-o", str(fitted.path)]) == 2
    assert "--overwrite" in error_line(capsys)
    assert fitted.path.read_bytes() == before
    target = tmp_path / "v.mp4"
    target.write_bytes(b"precious")
    assert run(["decompress", str(fitted.path), "-o", str(target)]) == 2
    assert "already exists" in error_line(capsys) and target.read_bytes() == b"precious"
    assert run(["decompress", str(fitted.path), "-o", str(target), "--overwrite"]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--frames", "40:50"], "selects no frame"),
        (["--frames", "x"], "is not a frame or range"),
    ],
)
def test_bad_frame_ranges(fitted: SimpleNamespace, tmp_path: Path, args: list[str], message: str, capsys) -> None:  # noqa: ANN001
    assert run(["decompress", str(fitted.path), "-o", str(tmp_path / "o"), *args]) == 2
    assert message in error_line(capsys)


def test_bad_settings(fitted: SimpleNamespace, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert run(["compress", str(fitted.run), "-o", str(tmp_path / "x.inrz"), "--weight-bits", "1"]) == 2
    assert "--weight-bits: got 1, expected an integer from 2 to 16" in error_line(capsys)
    assert run(["compress", str(fitted.run), "-o", str(tmp_path / "x.inrz"), "--prune", "1.5"]) == 2
    assert "--prune" in error_line(capsys)
    assert run(["compress", str(fitted.run), "-o", str(tmp_path / "x.inrz"), "--gop", "-1"]) == 2
    assert "--gop: got -1" in error_line(capsys)
    assert not (tmp_path / "x.inrz").exists()


# -- bad files ----------------------------------------------------------------------------------
def _with_version(data: bytes, version: int) -> bytes:
    body = data[:4] + struct.pack("<H", version) + data[6:-4]
    return body + struct.pack("<I", zlib.crc32(body))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d[: len(d) // 2], "checksum"),
        (lambda d: d[:10], "too short|checksum"),
        (lambda d: d[:200] + bytes([d[200] ^ 0xFF]) + d[201:], "checksum"),
        (lambda d: b"\x00\x00\x00\x20ftypisom" + d[12:], "not an inrzoo bitstream"),
        (lambda d: _with_version(d, 7), "format 7, written by a newer inrzoo.*upgrade"),
    ],
    ids=["truncated", "stub", "flipped-byte", "foreign", "newer-version"],
)
def test_damaged_files_are_refused_clearly(
    fitted: SimpleNamespace, tmp_path: Path, damage, message: str, capsys
) -> None:  # noqa: ANN001
    bad = tmp_path / "bad.inrz"
    bad.write_bytes(damage(fitted.path.read_bytes()))
    with pytest.raises(BitstreamError, match=message):
        Bitstream.read(bad)
    assert run(["decompress", str(bad), "-o", str(tmp_path / "out")]) == 2
    error_line(capsys)
    assert not (tmp_path / "out").exists(), "nothing is written from a bad file"


# -- the parts ------------------------------------------------------------------------------------
def test_quantisation_error_is_within_half_a_step() -> None:
    tensor = torch.randn(8, 5) * torch.tensor([0.01, 0.1, 1.0, 10.0, 100.0])
    for axis in (None, 0, 1):
        q = quantize(tensor, 6, axis)
        step = q.step if axis is None else q.step.view([-1 if d == axis else 1 for d in range(2)])
        assert ((q.dequantize() - tensor).abs() <= step / 2 + 1e-6).all()
    # Rows of very different scales: per row is best, and affordable on a large enough tensor ...
    rows = torch.randn(16, 512) * torch.logspace(-2, 2, 16).view(-1, 1)
    errors = {axis: float(((quantize(rows, 6, axis).dequantize() - rows) ** 2).sum()) for axis in (None, 0, 1)}
    best = best_quantization(rows, 6)
    assert best.axis == 0 and errors[0] < errors[None], errors  # per column (512 groups) costs too much
    # ... but never per element: a bias is quantised as one group.
    assert best_quantization(torch.randn(300), 8).axis is None


def test_entropy_coding_round_trips_with_every_model() -> None:
    rng = np.random.default_rng(0)
    for symbols in (rng.normal(100, 3, 500).round(), rng.laplace(30, 2, 500).round(), rng.integers(0, 256, 500)):
        symbols = symbols.clip(0, 255).astype(np.int64)
        coded = encode_symbols(symbols, 8)
        assert np.array_equal(decode_symbols(coded, 8, symbols.size), symbols)
        for coder, params, table in (
            ("gaussian", {"mean": 100.0, "std": 3.0}, b""),
            ("laplace", {"mean": 30.0, "scale": 2.0}, b""),
        ):
            from inrzoo.compression.entropy import _encode

            data = _encode(symbols, coder, 8, params, table)
            assert np.array_equal(decode_symbols(CodedSymbols(coder, params, table, data), 8, symbols.size), symbols)
    peaked = np.full(1000, 7, dtype=np.int64)
    assert len(encode_symbols(peaked, 8).data) < 64, "a constant tensor costs almost nothing"


def test_pruning_zeroes_the_smallest() -> None:
    tensor = torch.arange(1.0, 11.0) * torch.tensor([1, -1] * 5)
    pruned = prune_smallest(tensor, 0.3)
    assert (pruned == 0).sum() == 3 and pruned.abs().min() == 0 and (pruned[3:] == tensor[3:]).all()


def test_settings_errors() -> None:
    with pytest.raises(InrzooError, match="latent-bits"):
        CompressionSettings(latent_bits=40)


# -- the quality stage ------------------------------------------------------------------------------
def test_quantisation_aware_fine_tuning_beats_plain_quantisation(fitted: SimpleNamespace) -> None:
    plain = compress_run(fitted.run, fitted.root / "q4.inrz", weight_bits=4, latent_bits=4)
    tuned = compress_run(
        fitted.run, fitted.root / "q4_qat.inrz", weight_bits=4, latent_bits=4, qat_epochs=15, qat_learning_rate=2e-3,
        stage_dir=fitted.root / "stage_q4", accelerator="cpu",
    )  # fmt: skip
    assert tuned["psnr"] > plain["psnr"] + 0.3, (tuned["psnr"], plain["psnr"])
    assert (fitted.root / "stage_q4" / "checkpoints" / "last.ckpt").is_file()


def test_the_quality_stage_is_resumable_and_never_overwritten(fitted: SimpleNamespace, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    stage = tmp_path / "stage"
    common = ["compress", str(fitted.run), "--prune", "0.3", "--stage-dir", str(stage), "--accelerator", "cpu"]
    assert run([*common, "-o", str(tmp_path / "a.inrz"), "--qat-epochs", "2"]) == 0
    first = torch.load(stage / "checkpoints" / "last.ckpt", weights_only=True)
    assert first["epoch"] == 1  # 0-based: two epochs done
    # The same stage again without --resume is refused; with it, the stage continues to 4 epochs.
    assert run([*common, "-o", str(tmp_path / "b.inrz"), "--qat-epochs", "4"]) == 2
    assert "--resume" in error_line(capsys)
    assert run([*common, "-o", str(tmp_path / "b.inrz"), "--qat-epochs", "4", "--resume"]) == 0
    second = torch.load(stage / "checkpoints" / "last.ckpt", weights_only=True)
    assert second["epoch"] == 3 and second["global_step"] > first["global_step"]
    # Pruned entries stayed pruned through fine-tuning.
    weight = second["state_dict"]["backbone.blocks.0.conv.weight"]
    assert (weight == 0).float().mean() >= 0.29


def test_compress_options_from_yaml(fitted: SimpleNamespace, tmp_path: Path) -> None:
    config = tmp_path / "compress.yaml"
    config.write_text(f"run: {fitted.run}\noutput: {tmp_path / 'y.inrz'}\nweight_bits: 6\nlatent_bits: 5\n")
    assert run(["compress", "--config", str(config)]) == 0
    stream = Bitstream.read(tmp_path / "y.inrz")
    assert stream.header["settings"]["weight_bits"] == 6 and stream.header["settings"]["latent_bits"] == 5
