"""`inrzoo view INDEX_DIR` (issue 16, search): text and "more like this" queries rank the index's videos as
the index does, thumbnails are the fitted runs' own decodes, bad values are one JSON line, and a page in a
real browser lists the results of a text search."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from test_cli import run
from test_retrieval import fit_aligned_corpus

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402
from test_viewer import browser_tab, shown_pixels  # noqa: E402

from inrzoo.retrieval import RetrievalIndex, VideoEntry  # noqa: E402
from inrzoo.runs import FittedRun, decode_uint8  # noqa: E402
from inrzoo.viewer import ViewedIndex, create_app, open_viewed  # noqa: E402
from inrzoo.viewer import search as search_module  # noqa: E402
from inrzoo.viewer.search import thumbnail  # noqa: E402
from inrzoo.viewer.session import png_reader  # noqa: E402


@pytest.fixture(scope="module")
def searched(tiny_clip: str, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Two short fits aligned to a tiny random CLIP (it has a text tower), indexed: shapes, negative as a .inrz,
    negative as its run folder."""
    root = tmp_path_factory.mktemp("viewer_search")
    runs = fit_aligned_corpus(root, tiny_clip, epochs=2)
    inrz = root / "negative.inrz"
    assert run(["compress", str(runs["negative"]), "-o", str(inrz)]) == 0
    index_dir = root / "index"
    assert run(["index", str(runs["shapes"]), str(inrz), str(runs["negative"]), "--out", str(index_dir)]) == 0
    viewed = open_viewed(index_dir)
    assert isinstance(viewed, ViewedIndex)
    sources = [runs["shapes"], inrz, runs["negative"]]
    return SimpleNamespace(viewed=viewed, client=TestClient(create_app(viewed)), sources=sources, index=index_dir)


def _expected_ranking(index: RetrievalIndex, query: torch.Tensor, leave_out: int | None = None) -> list[dict]:
    """What the index says: videos by cosine of their pooled embedding, each with its frame nearest the query."""
    query = F.normalize(query.float(), dim=-1)
    scores = [float(F.normalize(e.float(), dim=-1) @ query) for e in index.embeddings]
    order = sorted((i for i in range(len(scores)) if i != leave_out), key=lambda i: -scores[i])
    frames = [int(torch.argmax(F.normalize(index.entries[i].frame_embeddings, dim=-1) @ query)) for i in order]
    return [{"video": i, "name": index.entries[i].name, "frame": f} for i, f in zip(order, frames, strict=True)]


def _ranking(body: dict) -> list[dict]:
    return [{"video": r["video"], "name": r["name"], "frame": r["frame"]} for r in body["results"]]


def test_a_text_search_ranks_like_the_index_with_its_teachers_text_embedding(searched: SimpleNamespace) -> None:
    viewed = searched.viewed
    meta = searched.client.get("/api/meta").json()
    assert meta["kind"] == "index" and meta["text_search"] is True and meta["teacher"] == "OpenClipTeacher"
    assert [v["name"] for v in meta["videos"]] == ["shapes", "negative", "negative"]
    body = searched.client.get("/api/search", params={"text": "a red disc on a gradient"}).json()
    with torch.no_grad():
        query = viewed.teacher.encode_text(["a red disc on a gradient"])[0]
    assert _ranking(body) == _expected_ranking(viewed.index, query)
    assert body["query"] == {"text": "a red disc on a gradient"} and [r["rank"] for r in body["results"]] == [1, 2, 3]
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    torch.testing.assert_close(torch.tensor(scores), viewed.index.similarity(query)[0].sort(descending=True).values)
    assert len(searched.client.get("/api/search", params={"text": "a dog", "top_k": 2}).json()["results"]) == 2


def test_more_like_this_ranks_the_other_videos(searched: SimpleNamespace) -> None:
    index = searched.viewed.index
    body = searched.client.get("/api/similar/1").json()
    assert body["query"] == {"video": 1, "name": "negative"}
    assert _ranking(body) == _expected_ranking(index, index.embeddings[1], leave_out=1)
    # The same video as a run folder and as its .inrz: the closest of all (the file keeps the latents).
    assert body["results"][0]["video"] == 2 and body["results"][0]["score"] > 0.99
    assert [r["video"] for r in searched.client.get("/api/similar/0?top_k=1").json()["results"]] == [
        _expected_ranking(index, index.embeddings[0], leave_out=0)[0]["video"]
    ]


def test_thumbnails_are_the_fitted_runs_decodes(searched: SimpleNamespace) -> None:
    for video, source in enumerate(searched.sources):
        model = FittedRun.open(source).model
        for frame in (0, 7):
            response = searched.client.get(f"/api/thumbnail/{video}.png", params={"frame": frame})
            assert response.status_code == 200 and response.headers["content-type"] == "image/png"
            assert "max-age" in response.headers["cache-control"] and float(response.headers["x-decode-ms"]) >= 0
            assert torch.equal(png_reader(response.content), decode_uint8(model, [frame])[0]), (source, frame)
    middle = searched.viewed.index.entries[0].frame_embeddings.shape[0] // 2
    default = png_reader(searched.client.get("/api/thumbnail/0.png").content)
    assert torch.equal(default, decode_uint8(FittedRun.open(searched.sources[0]).model, [middle])[0])
    hit = searched.client.get("/api/search", params={"text": "a white square"}).json()["results"][0]
    assert hit["thumbnail"] == f"/api/thumbnail/{hit['video']}.png?frame={hit['frame']}"


def test_a_large_frame_is_shrunk_to_a_thumbnail_and_a_small_one_kept() -> None:
    big = torch.randint(0, 256, (3, 720, 1280), dtype=torch.uint8)
    assert tuple(thumbnail(big).shape) == (3, 96, 171)
    small = big[:, :40, :60]
    assert thumbnail(small) is small


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/api/similar/3", 404, "not in this index"),
        ("/api/similar/-1", 404, "not in this index"),
        ("/api/similar/abc", 422, "video"),
        ("/api/similar/0?top_k=0", 422, "top_k"),
        ("/api/search?text=x&top_k=1000", 422, "top_k"),
        ("/api/search?text=%20%20", 422, "text"),
        ("/api/search?text=" + "a" * 301, 422, "text"),
        ("/api/search", 422, "text"),
        ("/api/thumbnail/3.png", 404, "not in this index"),
        ("/api/thumbnail/0.png?frame=12", 404, "out of range"),
        ("/api/thumbnail/0.png?frame=-1", 404, "out of range"),
        ("/api/thumbnail/0.png?frame=nan", 422, "frame"),
        ("/api/thumbnail/..%2F..%2Fetc%2Fpasswd.png", 404, "no such endpoint"),
        ("/api/thumbnail/index.json.png", 422, "video"),
        ("/api/thumbnail/../../index.json", 404, ""),
        ("/api/frame/0.png", 404, "no such endpoint"),
        ("/api/bench", 404, "no such endpoint"),
    ],
)
def test_bad_search_values_are_one_json_line(searched: SimpleNamespace, url: str, status: int, words: str) -> None:
    response = searched.client.get(url)
    assert response.status_code == status, (url, response.status_code, response.text)
    assert "Traceback" not in response.text and "\n" not in str(response.json())
    assert words in response.json()["error"], response.json()


def test_a_burst_of_thumbnails_is_decoded_one_at_a_time(
    searched: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewed = open_viewed(searched.index)  # its own, so no model is open yet
    client = TestClient(create_app(viewed))
    active, most = [0], [0]
    real = search_module.decode_uint8

    def counting(model, frames):  # noqa: ANN001, ANN202 - the real decode, counting overlaps
        active[0] += 1
        most[0] = max(most[0], active[0])
        try:
            return real(model, frames)
        finally:
            active[0] -= 1

    monkeypatch.setattr(search_module, "decode_uint8", counting)
    monkeypatch.setattr(search_module, "OPEN_RUNS", 1)  # and no more models open than allowed
    urls = [f"/api/thumbnail/{k % 3}.png?frame={k % 12}" for k in range(24)]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda url: client.get(url).status_code, urls))
    assert statuses == [200] * 24 and most[0] == 1 and len(viewed._runs) == 1


def write_index_without_runs(directory: Path) -> Path:
    """An index of three videos whose runs are gone, aligned to a feature-file teacher (it has no text tower)."""
    import numpy as np

    directory.mkdir(parents=True)
    np.save(directory / "f.npy", np.zeros((3, 6), dtype=np.float32))
    teacher = {"class_path": "inrzoo.teachers.FeatureFileTeacher", "init_args": {"path": str(directory / "f.npy")}}
    generator = torch.Generator().manual_seed(0)
    entries = [
        VideoEntry(f"v{i}", str(directory / f"gone{i}"), F.normalize(torch.randn(3, 6, generator=generator), dim=-1))
        for i in range(3)
    ]
    return RetrievalIndex(entries, teacher).save(directory / "index")


def test_an_index_without_text_or_runs_still_serves_more_like_this(tmp_path: Path) -> None:
    client = TestClient(create_app(open_viewed(write_index_without_runs(tmp_path / "corpus"))))
    meta = client.get("/api/meta").json()
    assert meta["text_search"] is False and "no text tower" in meta["text_note"]
    response = client.get("/api/search", params={"text": "a dog"})
    assert response.status_code == 404 and "no text search" in response.json()["error"]
    assert len(client.get("/api/similar/0").json()["results"]) == 2
    response = client.get("/api/thumbnail/1.png")
    assert response.status_code == 404 and "rebuild the index" in response.json()["error"]
    assert client.get("/").text.count("/static/search.js") == 1


# -- in a real browser --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def search_page(searched: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    with browser_tab(searched.viewed, tmp_path_factory.mktemp("search_screenshots")) as tab:
        yield tab


def test_a_text_search_lists_its_results_with_thumbnails(searched: SimpleNamespace, search_page) -> None:  # noqa: ANN001
    page = search_page
    assert page.is_visible("#text-form") and page.locator("#gallery li").count() == 3
    page.fill("#text", "a red disc")
    page.click("#text-form button[type=submit]")
    page.wait_for_selector("#results[data-query='a red disc']")
    expected = searched.client.get("/api/search", params={"text": "a red disc"}).json()["results"]
    items = page.locator("#results li")
    assert items.count() == len(expected) == 3
    assert [items.nth(i).get_attribute("data-name") for i in range(3)] == [r["name"] for r in expected]
    assert f"{expected[0]['score']:.4f}" in items.nth(0).inner_text()
    first = expected[0]
    model = FittedRun.open(searched.sources[first["video"]]).model
    height, width = model.frame_size
    assert torch.equal(shown_pixels(page, "#results li:first-child img", height, width),
                       decode_uint8(model, [first["frame"]])[0])  # fmt: skip
    page.screenshot(path=str(page.screenshots / "search.png"), full_page=True)


def test_more_like_this_on_a_video_lists_the_others(searched: SimpleNamespace, search_page) -> None:  # noqa: ANN001
    page = search_page
    page.click("#gallery li[data-video='0'] button.more")
    page.wait_for_selector("#results[data-query='video:0']")
    expected = searched.client.get("/api/similar/0").json()["results"]
    names = [page.locator("#results li").nth(i).get_attribute("data-name") for i in range(len(expected))]
    assert names == [r["name"] for r in expected] and "More like shapes" in page.inner_text("#results-title")
    page.screenshot(path=str(page.screenshots / "similar.png"), full_page=True)
