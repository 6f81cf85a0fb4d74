"""Retrieval from aligned latents: pooling, metrics, the index on disk, the MSR-VTT loader, the commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from helpers import REPO_ROOT, encode_clip, name_before_0_2, synthetic_frames
from test_alignment import fit
from test_cli import error_line, run

from inrzoo.alignment import Alignment
from inrzoo.compression.bitstream import Bitstream
from inrzoo.data import VideoDataModule
from inrzoo.errors import InrzooError
from inrzoo.retrieval import (
    RetrievalIndex,
    VideoEntry,
    load_msrvtt_queries,
    pool_frames,
    ranks_of_targets,
    retrieval_metrics,
)
from inrzoo.retrieval.evaluate import evaluate_video_to_video
from inrzoo.runs import FittedRun
from inrzoo.teachers import OpenClipTeacher
from inrzoo.teachers.cache import teacher_features


def corpus_videos(root: Path) -> dict[str, Path]:
    """Three different-looking clips: the test clip, its colours rotated, and its negative."""
    frames = synthetic_frames()
    variants = {"shapes": frames, "rotated": frames[:, [2, 0, 1]], "negative": 255 - frames}
    return {name: encode_clip(v.contiguous(), root / f"{name}.mp4") for name, v in variants.items()}


# -- metrics and pooling ------------------------------------------------------------------------
def test_metrics_follow_the_ranks() -> None:
    # Three queries whose right video is ranked 1st, 2nd and 3rd.
    similarity = torch.tensor([[0.9, 0.1, 0.0], [0.9, 0.5, 0.1], [0.9, 0.5, 0.3]])
    targets = torch.tensor([0, 1, 2])
    assert ranks_of_targets(similarity, targets).tolist() == [1, 2, 3]
    metrics = retrieval_metrics(similarity, targets, ks=(1, 2, 5))
    assert metrics["R@1"] == pytest.approx(100 / 3) and metrics["R@2"] == pytest.approx(200 / 3)
    assert metrics["R@5"] == pytest.approx(100) and metrics["MdR"] == 2 and metrics["MnR"] == 2


def test_pooling() -> None:
    frames = F.normalize(torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]]), dim=-1)
    mean = pool_frames(frames, "mean")
    torch.testing.assert_close(mean, F.normalize(frames.mean(0), dim=0))
    attention = pool_frames(frames, "attention")
    assert attention.norm() == pytest.approx(1.0)
    assert attention[0] > mean[0], "attention pooling leans towards the typical frames, away from the outlier"


# -- the index ----------------------------------------------------------------------------------
def small_index(pooling: str = "mean") -> RetrievalIndex:
    entries = [VideoEntry(f"v{i}", f"src{i}", F.normalize(torch.randn(4, 8), dim=-1)) for i in range(3)]
    return RetrievalIndex(entries, {"class_path": "x.Teacher", "init_args": {}}, pooling)  # type: ignore[arg-type]


def test_index_round_trip_and_never_overwrites(tmp_path: Path) -> None:
    torch.manual_seed(0)
    index = small_index("attention")
    index.save(tmp_path / "idx")
    loaded = RetrievalIndex.load(tmp_path / "idx")
    assert loaded.names == index.names and loaded.pooling == "attention" and loaded.teacher == index.teacher
    torch.testing.assert_close(loaded.embeddings, index.embeddings)
    before = (tmp_path / "idx" / "index.json").read_bytes()
    with pytest.raises(InrzooError, match="already holds an index"):
        small_index().save(tmp_path / "idx")
    assert (tmp_path / "idx" / "index.json").read_bytes() == before


def test_index_from_a_newer_version_or_torn_is_refused(tmp_path: Path) -> None:
    small_index().save(tmp_path / "idx")
    meta = json.loads((tmp_path / "idx" / "index.json").read_text())
    meta["format_version"] = 99
    (tmp_path / "idx" / "index.json").write_text(json.dumps(meta))
    with pytest.raises(InrzooError, match="format version 99.*upgrade inrzoo"):
        RetrievalIndex.load(tmp_path / "idx")
    (tmp_path / "idx" / "embeddings.safetensors").write_bytes(b"torn")
    with pytest.raises(InrzooError, match="unreadable"):
        RetrievalIndex.load(tmp_path / "idx")
    with pytest.raises(InrzooError, match="not a retrieval index"):
        RetrievalIndex.load(tmp_path)


# -- retrieval quality on a small corpus ---------------------------------------------------------
def test_aligned_latents_retrieve_like_the_teacher(tiny_clip: str, tmp_path: Path) -> None:
    videos = corpus_videos(tmp_path)
    torch.manual_seed(0)
    teacher = OpenClipTeacher(tiny_clip, pretrained=None)
    entries, teacher_pooled, queries = [], [], []
    for name, path in videos.items():
        dm = VideoDataModule(path=str(path), batch_size=4, cache_dir=None)
        model, _ = fit(dm, Alignment(teacher=teacher, weight=1.0, cache_dir=str(tmp_path / "cache")))
        with torch.no_grad():
            entries.append(VideoEntry(name, str(path), model.aligned_embeddings()))
        teacher_pooled.append(pool_frames(teacher_features(teacher, dm.frames, None, progress=False)))
        # The query: the same scene, darker (the teacher sees it; the fitted video never did).
        darker = (dm.frames.float() * 0.8).round().to(torch.uint8)
        queries.append(pool_frames(teacher_features(teacher, darker, None, progress=False)))
    queries_t, names = torch.stack(queries), list(videos)
    teacher_r1 = retrieval_metrics(queries_t @ torch.stack(teacher_pooled).T, torch.arange(3))["R@1"]
    assert teacher_r1 == 100, "precondition: the teacher itself finds every video"
    ours = evaluate_video_to_video(RetrievalIndex(entries, None), queries_t, names)
    assert ours["R@1"] == 100 and ours["MdR"] == 1


# -- MSR-VTT files ------------------------------------------------------------------------------
def test_msrvtt_loader_reads_the_published_formats(tmp_path: Path) -> None:
    csv_file = tmp_path / "MSRVTT_JSFUSION_test.csv"
    csv_file.write_text(
        "key,vid_key,video_id,sentence\n"
        "ret0,msr7579,video7579,a girl wearing red top and black trouser is putting a sweater on a dog\n"
        "ret1,msr7725,video7725,young people sit around the edges of a room clapping\n"
    )
    queries = load_msrvtt_queries(csv_file)
    assert [(q.video_id, q.caption[:6]) for q in queries] == [("video7579", "a girl"), ("video7725", "young ")]
    json_file = tmp_path / "test1k.json"
    json_file.write_text(json.dumps([{"clip_name": "video9.mp4", "caption": ["a cat", "a kitten"]}]))
    assert (
        load_msrvtt_queries(json_file)[0].video_id == "video9" and load_msrvtt_queries(json_file)[0].caption == "a cat"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text_only\n1,x\n")
    with pytest.raises(InrzooError, match="none of the columns video_id"):
        load_msrvtt_queries(bad)


# -- the commands, end to end ---------------------------------------------------------------------
def fit_aligned_corpus(root: Path, tiny_clip: str, epochs: int = 30) -> dict[str, Path]:
    """``shapes`` and ``negative`` fitted with the semantic config, aligned to the tiny CLIP: their run folders."""
    videos = corpus_videos(root)
    runs = {}
    for name in ("shapes", "negative"):
        args = [
            "fit", "--config", str(REPO_ROOT / "configs" / "semantic_clip.yaml"),
            f"--data.init_args.path={videos[name]}", "--data.init_args.resize=null", "--data.init_args.batch_size=4",
            f"--model.init_args.alignment.teacher.init_args.model_name={tiny_clip}",
            "--model.init_args.alignment.teacher.init_args.pretrained=null",
            "--model.init_args.alignment.weight=1.0", f"--model.init_args.alignment.cache_dir={root / 'cache'}",
            f"--trainer.max_epochs={epochs}", "--trainer.max_time=null", "--trainer.enable_progress_bar=false",
            f"--trainer.logger.init_args.save_dir={root / 'runs'}", f"--trainer.logger.init_args.name={name}",
        ]  # fmt: skip
        assert run(args) == 0
        runs[name] = root / "runs" / name / "version_0"
    return runs


@pytest.fixture(scope="module")
def aligned_runs(tiny_clip: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return fit_aligned_corpus(tmp_path_factory.mktemp("aligned_runs"), tiny_clip)


def test_index_and_query_by_video_and_text(aligned_runs: dict[str, Path], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    assert run(["index", str(aligned_runs["shapes"]), str(aligned_runs["negative"]), "--out", str(index_dir)]) == 0
    meta = json.loads((index_dir / "index.json").read_text())
    assert [v["name"] for v in meta["videos"]] == ["shapes", "negative"]
    assert meta["teacher"]["class_path"].endswith("OpenClipTeacher")
    capsys.readouterr()
    assert run(["retrieve", "--index", str(index_dir), "--video", str(aligned_runs["negative"])]) == 0
    ranked = [line.split()[-1] for line in capsys.readouterr().out.splitlines()]
    assert ranked == ["negative", "shapes"]
    assert run(["retrieve", "--index", str(index_dir), "--text", "a red disc on a gradient", "--top_k", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    # A compressed file serves as the query too (it keeps the alignment head unless told not to).
    inrz = tmp_path / "negative.inrz"
    assert run(["compress", str(aligned_runs["negative"]), "-o", str(inrz)]) == 0
    capsys.readouterr()
    assert run(["retrieve", "--index", str(index_dir), "--video", str(inrz)]) == 0
    assert [line.split()[-1] for line in capsys.readouterr().out.splitlines()] == ["negative", "shapes"]
    dropped = tmp_path / "dropped.inrz"
    assert run(["compress", str(aligned_runs["negative"]), "-o", str(dropped), "--drop-alignment"]) == 0
    assert dropped.stat().st_size < inrz.stat().st_size
    assert run(["retrieve", "--index", str(index_dir), "--video", str(dropped)]) == 2
    assert "holds no alignment" in error_line(capsys)
    # Indexing into the same folder again never overwrites it.
    assert run(["index", str(aligned_runs["shapes"]), "--out", str(index_dir)]) == 2
    assert "already holds an index" in error_line(capsys)


def test_a_bitstream_from_before_the_alignment_objective_still_serves_retrieval(
    aligned_runs: dict[str, Path], tmp_path: Path
) -> None:
    """Files written before 0.2 named the alignment tensors alignment_head.*, teacher_mean, teacher_spread."""
    current = tmp_path / "current.inrz"
    assert run(["compress", str(aligned_runs["shapes"]), "-o", str(current)]) == 0
    stream = Bitstream.read(current)
    for entry in stream.header["tensors"]:
        entry["name"] = name_before_0_2(entry["name"])
    names = {entry["name"] for entry in stream.header["tensors"]}
    assert {"alignment_head.net.weight", "teacher_mean", "teacher_spread"} <= names
    legacy = tmp_path / "legacy.inrz"
    stream.write(legacy)
    with torch.no_grad():
        expected = FittedRun.open(current).model.aligned_embeddings()
        torch.testing.assert_close(FittedRun.open(legacy).model.aligned_embeddings(), expected, rtol=0, atol=0)


def test_msrvtt_evaluation_command(aligned_runs: dict[str, Path], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    assert run(["index", str(aligned_runs["shapes"]), str(aligned_runs["negative"]), "--out", str(index_dir)]) == 0
    captions = tmp_path / "captions.csv"
    captions.write_text("key,vid_key,video_id,sentence\nr0,a,shapes,a red disc\nr1,b,negative,a dark negative\n")
    out = tmp_path / "metrics.json"
    args = ["retrieve", "--index", str(index_dir), "--eval", "msrvtt", "--captions", str(captions), "--out", str(out)]
    assert run(args) == 0
    metrics = json.loads(out.read_text())
    assert metrics["queries"] == 2 and 1 <= metrics["MdR"] <= 2 and 0 <= metrics["R@1"] <= 100
    assert run(args) == 2, "an existing metrics file is never overwritten"
    assert "already exists" in error_line(capsys)
    captions.write_text("key,vid_key,video_id,sentence\nr0,a,video42,a cat\n")
    assert run(args[:-2]) == 2
    assert "not in the index" in error_line(capsys)


def test_video_to_video_evaluation_command(aligned_runs: dict[str, Path], tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    assert run(["index", str(aligned_runs["shapes"]), str(aligned_runs["negative"]), "--out", str(index_dir)]) == 0
    queries = tmp_path / "queries.csv"
    queries.write_text(f"query,video_id\n{aligned_runs['negative']},negative\n{aligned_runs['shapes']},shapes\n")
    out = tmp_path / "v2v.json"
    assert (
        run(["retrieve", "--index", str(index_dir), "--eval", "videos", "--queries", str(queries), "--out", str(out)])
        == 0
    )
    metrics = json.loads(out.read_text())
    assert metrics["task"] == "video-to-video" and metrics["R@1"] == 100 and metrics["MdR"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "exactly one of --text, --video or --eval"),
        (["--eval", "videos"], "needs --queries"),
        (["--text", "x", "--video", "y"], "exactly one of"),
        (["--eval", "msrvtt"], "needs --captions"),
    ],
)
def test_retrieve_argument_errors(args: list[str], message: str, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    small_index().save(tmp_path / "idx")
    assert run(["retrieve", "--index", str(tmp_path / "idx"), *args]) == 2
    assert message in error_line(capsys)


def test_text_query_against_a_teacher_without_text_is_a_clear_error(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    entries = [VideoEntry("v", "src", F.normalize(torch.randn(3, 6), dim=-1))]
    teacher = {"class_path": "inrzoo.teachers.FeatureFileTeacher", "init_args": {"path": str(tmp_path / "f.npy")}}
    import numpy as np

    np.save(tmp_path / "f.npy", np.zeros((3, 6), dtype=np.float32))
    RetrievalIndex(entries, teacher).save(tmp_path / "idx")
    assert run(["retrieve", "--index", str(tmp_path / "idx"), "--text", "a dog"]) == 2
    assert "no text tower" in error_line(capsys)
