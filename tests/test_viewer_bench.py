"""`inrzoo view BENCH_DIR` (issue 16, benchmarks): the leaderboard the page shows is the one `inrzoo bench`
wrote, its rate-distortion points are the report's, a broken folder is one error line; in a real browser the
table is there and hovering a point of the plot shows its combination, bpp and PSNR. Also: `inrzoo view`
tells what it was given from what is on disk, and refuses anything else with one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import REPO_ROOT
from test_cli import error_line, run

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402
from test_viewer import browser_tab  # noqa: E402
from test_viewer_search import write_index_without_runs  # noqa: E402

from inrzoo.errors import InrzooError  # noqa: E402
from inrzoo.viewer import ViewedBench, ViewedIndex, create_app, open_viewed  # noqa: E402

#: Committed outputs of `inrzoo bench`: the cpu tier (with the x264/x265 sweeps) and the ci tier (skips, no codecs).
BENCHES = ("bench_cpu", "bench_ci")


def _bench_copy(tmp_path: Path, name: str = "bench_cpu") -> Path:
    return Path(shutil.copytree(REPO_ROOT / "benchmarks" / "results" / name, tmp_path / name))


def _markdown_rows(leaderboard_md: str) -> list[dict[str, str]]:
    """The first table of a leaderboard.md as {header: cell} rows."""
    lines = [line for line in leaderboard_md.splitlines() if line.startswith("|")]
    headers = [cell.strip() for cell in lines[0].strip(" |").split("|")]  # (no codecs: a stray empty header)
    end = next((i for i, line in enumerate(lines[2:], start=2) if line.startswith("| codec ")), len(lines))
    return [dict(zip(headers, (c.strip() for c in line.strip(" |").split("|")), strict=True)) for line in lines[2:end]]


@pytest.fixture(params=BENCHES)
def bench(request: pytest.FixtureRequest, tmp_path: Path) -> SimpleNamespace:
    folder = _bench_copy(tmp_path, request.param)
    viewed = open_viewed(folder)
    assert isinstance(viewed, ViewedBench)
    report = json.loads((folder / "bench.json").read_text())
    return SimpleNamespace(folder=folder, report=report, client=TestClient(create_app(viewed)))


def test_the_leaderboard_is_the_one_bench_wrote(bench: SimpleNamespace) -> None:
    table = bench.client.get("/api/bench").json()
    written = _markdown_rows((bench.folder / "leaderboard.md").read_text())
    assert len(table["leaderboard"]) == len(written) > 0
    for row, md in zip(table["leaderboard"], written, strict=True):
        assert (str(row["rank"]), row["name"]) == (md["rank"], md["combination"])
        assert (f"{row['psnr']:.2f}", f"{row['bpp']:.4f}", f"{row['params']:,}") == (
            md["PSNR (dB)"], md["bpp"], md["params"])  # fmt: skip
        for codec in table["codecs"]:
            versus = row["versus"][codec]
            shown = ("", "") if versus is None else (f"{versus['psnr']:.2f}", f"{versus['delta']:+.2f}")
            assert shown == (md[f"{codec} PSNR @bpp"], md[f"vs {codec}"])
    codecs = [r for r in bench.report["results"] if r["kind"] == "codec"]
    assert sorted((p["name"], p["bpp"], p["psnr"]) for p in table["codec_points"]) == sorted(
        (r["name"], r["bpp"], r["psnr"]) for r in codecs
    )
    assert table["skipped"] == bench.report["skipped"] and table["failed"] == bench.report["failed"]
    meta = bench.client.get("/api/meta").json()
    assert meta["kind"] == "bench" and meta["tier"] == bench.report["tier"] and meta["frames"] == bench.report["frames"]


def test_the_bench_page_is_served_offline(bench: SimpleNamespace) -> None:
    page = bench.client.get("/")
    assert page.status_code == 200 and "/static/bench.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text
    script = bench.client.get("/static/bench.js")
    assert script.status_code == 200 and "https://" not in script.text.replace("http://www.w3.org/2000/svg", "")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/frame/0.png", 404),
        ("/api/search?text=x", 404),
        ("/api/bench.json", 404),
        ("/static/..%2Fbench.json", 404),
        ("/static/search.html", 404),
        ("/bench.json", 404),
    ],
)
def test_nothing_but_the_report_is_served(bench: SimpleNamespace, url: str, status: int) -> None:
    response = bench.client.get(url)
    assert response.status_code == status and "\n" not in str(response.json())
    assert "results" not in response.text


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "not readable JSON"),
        ('{"results": 3}', "not an `inrzoo bench` file"),
        ('[{"kind": "inrzoo"}]', "not an `inrzoo bench` file"),
        ('{"results": [{"kind": "inrzoo", "name": "a", "bpp": 0, "psnr": 20}]}', "not an `inrzoo bench` file"),
        ('{"results": [{"kind": "codec", "name": "x264 crf 1", "bpp": 1, "psnr": 20}]}', "not an `inrzoo bench`"),
    ],
)
def test_a_broken_bench_json_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, words: str
) -> None:
    (tmp_path / "bench.json").write_text(content)
    assert run(["view", str(tmp_path)]) == 2
    assert words in error_line(capsys)


def test_an_empty_report_is_a_page_with_no_results(tmp_path: Path) -> None:
    (tmp_path / "bench.json").write_text('{"status": "running", "results": []}')
    client = TestClient(create_app(open_viewed(tmp_path)))
    assert client.get("/api/bench").json()["leaderboard"] == []


# -- which kind of folder ------------------------------------------------------------------------
def test_view_tells_the_kind_from_what_is_on_disk(tmp_path: Path) -> None:
    folder = _bench_copy(tmp_path)
    assert isinstance(open_viewed(folder), ViewedBench)
    assert isinstance(open_viewed(folder / "bench.json"), ViewedBench)
    index = write_index_without_runs(tmp_path / "idx")
    assert isinstance(open_viewed(index), ViewedIndex) and isinstance(open_viewed(index / "index.json"), ViewedIndex)


def _not_viewable(tmp_path: Path, what: str) -> Path:
    """Something `inrzoo view` must refuse: named by ``what``."""
    if what == "missing":
        return tmp_path / "missing"
    if what == "empty folder":
        return tmp_path
    files = {"text file": ("notes.txt", b"hi"), "torn index": ("index.json", b"{"), "junk .inrz": ("x.inrz", b"junk")}
    name, content = files[what]
    (tmp_path / name).write_bytes(content)
    return tmp_path if name == "index.json" else tmp_path / name


@pytest.mark.parametrize(
    ("what", "words"),
    [
        ("missing", "does not exist; give a run folder, a .ckpt or .inrz file, an `inrzoo index` folder"),
        ("empty folder", "holds none of checkpoints/last.ckpt, index.json or bench.json"),
        ("text file", "is not a file inrzoo view shows (.ckpt or .inrz)"),
        ("torn index", "is unreadable"),
        ("junk .inrz", "x.inrz"),
    ],
)
def test_view_refuses_anything_else_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str, words: str
) -> None:
    target = _not_viewable(tmp_path, what)
    with pytest.raises(InrzooError):
        open_viewed(target)
    assert run(["view", str(target)]) == 2
    assert words in error_line(capsys)


def test_view_gets_past_the_checks_of_a_bench_folder_to_the_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    folder = _bench_copy(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert run(["view", str(folder), "--port", str(port)]) == 2
    assert f"127.0.0.1:{port}" in error_line(capsys)


# -- in a real browser --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bench_page(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - a Playwright page
    folder = _bench_copy(tmp_path_factory.mktemp("bench"))
    with browser_tab(open_viewed(folder), tmp_path_factory.mktemp("bench_screenshots")) as tab:
        tab.report = json.loads((folder / "bench.json").read_text())
        yield tab


def test_the_bench_page_shows_the_leaderboard(bench_page) -> None:  # noqa: ANN001
    page = bench_page
    models = sorted((r for r in page.report["results"] if r["kind"] == "inrzoo"), key=lambda r: -r["psnr"])
    rows = page.locator("#leaderboard tbody tr")
    assert rows.count() == len(models)
    assert [rows.nth(i).get_attribute("data-name") for i in range(rows.count())] == [r["name"] for r in models]
    codecs = [r for r in page.report["results"] if r["kind"] == "codec"]
    assert page.locator("#codecs tbody tr").count() == len(codecs)
    assert page.locator("#rd-plot circle.point").count() == len(models) + len(codecs)
    page.screenshot(path=str(page.screenshots / "bench.png"), full_page=True)


def test_hovering_a_point_of_the_plot_shows_its_combination_bpp_and_psnr(bench_page) -> None:  # noqa: ANN001
    page = bench_page
    results = page.report["results"]
    models = sorted((r for r in results if r["kind"] == "inrzoo"), key=lambda r: -r["psnr"])
    assert page.is_hidden("#tooltip")
    for record in (models[0], next(r for r in results if r["kind"] == "codec")):
        box = page.locator(f"#rd-plot circle.point[data-name='{record['name']}']").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the point's centre
        page.wait_for_selector("#tooltip:not([hidden])")
        tip = page.inner_text("#tooltip").splitlines()
        assert tip[:2] == [record["name"], f"bpp {record['bpp']:.4f} · PSNR {record['psnr']:.2f} dB"], tip
        assert page.get_attribute("#rd-plot circle.point.active", "data-name") == record["name"]
        if record["kind"] == "inrzoo":  # the name is the combination (backbone+hypernet@budget)
            assert record["name"].startswith(f"{record['backbone']}+{record['hypernet']}@")
            page.screenshot(
                path=str(page.screenshots / "bench_hover.png")
            )  # the viewport: a full-page resize moves the pointer
    page.mouse.move(1, 1)
    page.wait_for_selector("#tooltip", state="hidden")
    page.hover(f"#leaderboard tbody tr[data-name='{models[1]['name']}']")  # a row shows its point too
    page.wait_for_selector("#tooltip:not([hidden])")
    assert page.inner_text("#tooltip").splitlines()[0] == models[1]["name"]
