"""The corpus-scale retrieval benchmark's builders (benchmarks/retrieval_corpus.py): which segments make the
corpus, and how a query is degraded from its segment. Seconds: one tiny synthetic segment through ffmpeg."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from helpers import load_benchmark

FPS, SIZE = 12, (64, 112)


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    yield from load_benchmark("retrieval_corpus")


def test_the_corpus_has_200_distinct_two_second_segments(bench) -> None:  # noqa: ANN001
    segments = bench.plan_segments(FPS, SIZE)
    assert len(segments) >= 200
    assert len({s.name for s in segments}) == len(segments)
    for sample, seconds in bench.SAMPLES.items():  # every whole window, one a second, none past the clip's end
        starts = [s.start for s in segments if s.source == f"sample:{sample}"]
        assert starts == [float(k) for k in range(int(seconds - 2) + 1)] and starts[-1] + 2 <= seconds
    synthetic = [s for s in segments if s.lavfi]
    assert len({s.source for s in synthetic}) == len(synthetic) // 2  # each scene cut into two segments
    assert all(s.start in (0.0, 2.0) for s in synthetic)


def test_degradations_are_seeded_and_scale_with_strength(bench) -> None:  # noqa: ANN001
    first, again, other = (bench.draw_degradation(seed, 0.5, 48) for seed in (3, 3, 4))
    assert first == again and first != other
    identity = bench.draw_degradation(3, 0.0, 48)  # strength 0: only the re-encode is left
    assert (identity.crop_w, identity.crop_h, identity.hue, identity.brightness) == (1.0, 1.0, 0.0, 0.0)
    strong = bench.draw_degradation(3, 1.0, 48)
    assert strong.crop_w < first.crop_w < 1 and abs(strong.hue) > abs(first.hue) > 0


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg binary")
def test_a_segment_and_its_query_have_the_corpus_geometry(bench, tmp_path: Path) -> None:  # noqa: ANN001
    from inrzoo.baselines.codecs import decode_video

    segment = next(s for s in bench.plan_segments(FPS, SIZE) if s.name == "gradients3_1")
    bench.write_segment(segment, tmp_path / "segment.mp4", FPS, SIZE)
    bench.write_query(tmp_path / "segment.mp4", bench.draw_degradation(0, 1.0, 48), tmp_path / "query.mp4", FPS, SIZE)
    original, _ = decode_video(tmp_path / "segment.mp4", 100)
    query, _ = decode_video(tmp_path / "query.mp4", 100)
    assert tuple(original.shape) == tuple(query.shape) == (2 * FPS, 3, *SIZE)
    assert (original[-1].float() - original[0].float()).abs().mean() > 1  # the scene moves
    assert (query.float() - original.float()).abs().mean() > 5  # the query is not the segment


def test_every_setting_that_changes_a_fit_has_its_own_folder(bench) -> None:  # noqa: ANN001
    import argparse

    base = {"epochs": 6, "weight": 0.1, "pack": 12, "plain_cosine": False, "head": "linear", "lr": None, "limit": None}
    assert bench.variant_folder(argparse.Namespace(**base)) == "fits_e6_w0.1_p12"  # the folder of earlier runs
    changes = [{"plain_cosine": True}, {"head": "mlp"}, {"lr": 0.01}, {"limit": 64}, {"epochs": 12}, {"weight": 1.0}]
    folders = {bench.variant_folder(argparse.Namespace(**(base | change))) for change in changes}
    assert len(folders) == len(changes) and "fits_e6_w0.1_p12" not in folders
