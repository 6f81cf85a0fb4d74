"""``fit-many --shard I/N`` and ``--report``: job-array shards that together fit a manifest once."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from helpers import REPO_ROOT, write_two_clip_corpus
from hypothesis import given
from hypothesis import strategies as st
from test_cli import error_line, run
from test_concurrency import QUICK_FIT, start_together

from inrzoo.errors import InrzooError
from inrzoo.fleet.sharding import Shard, parse_shard

CONFIG = str(REPO_ROOT / "configs" / "quickstart.yaml")


@given(size=st.integers(0, 200), count=st.integers(1, 17))
def test_shards_cover_the_manifest_exactly_once(size: int, count: int) -> None:
    items = list(range(size))
    shards = [Shard(i, count).select(items) for i in range(count)]
    assert sorted(v for shard in shards for v in shard) == items
    assert max(map(len, shards)) - min(map(len, shards)) <= 1  # balanced
    assert all(shard == sorted(shard) for shard in shards)  # manifest order kept
    assert [parse_shard(f"{i}/{count}") for i in range(count)] == [Shard(i, count) for i in range(count)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3/2", "I must be below N"),
        ("a/b", "expected I/N with whole numbers"),
        ("0/0", "must be at least 1"),
        ("2/2", "shards count from 0, so I runs from 0 to 1"),
        ("-1/2", "expected I/N"),
        ("1", "expected I/N"),
    ],
)
def test_bad_shards_are_one_line_errors(text: str, expected: str, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    (tmp_path / "m.txt").write_text("a.mp4\n")
    command = ["fit-many", "--manifest", str(tmp_path / "m.txt"), "--config", CONFIG, "--out", str(tmp_path / "o")]
    assert run([*command, f"--shard={text}"]) == 2
    assert expected in error_line(capsys)
    with pytest.raises(InrzooError, match=expected):
        parse_shard(text)


def test_report_errors(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert run(["fit-many", "--out", str(tmp_path / "none"), "--report"]) == 2
    assert "does not exist" in error_line(capsys)
    assert run(["fit-many", "--out", str(tmp_path), "--report"]) == 2
    assert "not a fit-many --out folder" in error_line(capsys)
    assert run(["fit-many", "--out", str(tmp_path), "--report", "--manifest", "m.txt"]) == 2
    assert "drop --manifest" in error_line(capsys)
    assert run(["fit-many", "--out", str(tmp_path)]) == 2
    assert "needs --manifest and --config" in error_line(capsys)


def test_an_empty_shard_and_a_report_of_an_unfinished_corpus(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    (tmp_path / "m.txt").write_text("a.mp4\n")
    out = tmp_path / "out"
    assert run(["fit-many", "--manifest", str(tmp_path / "m.txt"), "--config", CONFIG, "--out", str(out),
                "--shard", "1/2"]) == 0  # fmt: skip
    assert run(["fit-many", "--out", str(out), "--report"]) == 1  # not every video is done
    assert "1 pending of 1 videos" in capsys.readouterr().out
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [(r["name"], r["status"]) for r in rows] == [("a", "pending")]


def test_two_shards_at_once_into_one_out_fit_every_video_once(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    corpus = write_two_clip_corpus(tmp_path)
    (tmp_path / "videos.txt").write_text("shapes.mp4\nnegative.mp4\n")
    out = tmp_path / "out"
    command = ["fit-many", "--manifest", str(tmp_path / "videos.txt"), "--config", CONFIG, "--out", str(out)]
    results = start_together([[*command, "--shard", f"{i}/2", "--", *QUICK_FIT] for i in range(2)], tmp_path)
    assert [r.returncode for r in results] == [0, 0], "\n".join(r.stdout[-2000:] for r in results)
    assert "done  shapes" in results[0].stdout and "done  negative" in results[1].stdout  # shard k: video k
    for name in ("shapes", "negative"):
        assert [p.name for p in (out / name).glob("version_*")] == ["version_0"], f"{name} was fitted twice"
    # The last shard to end wrote the whole corpus's table; --report writes the same.
    merged = list(csv.DictReader((out / "results.csv").open()))
    assert [(r["name"], r["status"]) for r in merged] == [("shapes", "done"), ("negative", "done")]
    assert run(["fit-many", "--out", str(out), "--report"]) == 0
    assert "2 done of 2 videos" in capsys.readouterr().out
    assert list(csv.DictReader((out / "results.csv").open())) == merged
    assert corpus == tmp_path
