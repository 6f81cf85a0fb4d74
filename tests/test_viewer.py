"""`inrzoo view` (issue 16, first part): the API serves the run's own decodes, refuses bad values with one
JSON line, serves nothing but the run it was given, and serialises decodes."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from helpers import REPO_ROOT
from test_cli import error_line, run

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from inrzoo.compression import CompressionSettings, encode_model  # noqa: E402
from inrzoo.runs import FittedRun, decode_uint8  # noqa: E402
from inrzoo.tasks.interpolation import LinearInterpolator, fit_interpolator  # noqa: E402
from inrzoo.tasks.super_resolution import default_sr_head  # noqa: E402
from inrzoo.viewer import Viewed, ViewedRun, create_app, open_viewed  # noqa: E402
from inrzoo.viewer.session import png_reader  # noqa: E402


@pytest.fixture(scope="module")
def viewer(shared_clip_path: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A short quickstart fit of the test clip, served by the viewer app (its run folder and a .inrz of it)."""
    root = tmp_path_factory.mktemp("viewer")
    args = [
        "fit", "--config", str(REPO_ROOT / "configs" / "quickstart.yaml"), f"--data.init_args.path={shared_clip_path}",
        "--data.init_args.resize=null", "--data.init_args.batch_size=2", "--trainer.max_epochs=3",
        "--trainer.max_time=null", "--trainer.enable_progress_bar=false", f"--trainer.logger.init_args.save_dir={root}",
    ]  # fmt: skip
    assert run(args) == 0
    run_dir = root / "quickstart" / "version_0"
    viewed = ViewedRun.open(str(run_dir))
    fitted = viewed.run
    stream = encode_model(fitted.model, fitted.config, {"name": "clip", "num_frames": viewed.num_frames,
                          "height": fitted.model.frame_size[0], "width": fitted.model.frame_size[1], "fps": 25},
                          CompressionSettings(keep_alignment=False))  # fmt: skip
    inrz = root / "clip.inrz"
    stream.write(inrz)
    return SimpleNamespace(run=run_dir, inrz=inrz, viewed=viewed, client=TestClient(create_app(viewed)))


def _image(response) -> torch.Tensor:  # noqa: ANN001 - an httpx response
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return png_reader(response.content)


def test_a_frame_is_the_models_decode_of_that_frame(viewer: SimpleNamespace) -> None:
    model = viewer.viewed.run.model
    for k in (0, 5, viewer.viewed.num_frames - 1):
        response = viewer.client.get(f"/api/frame/{k}.png")
        assert torch.equal(_image(response), decode_uint8(model, [k])[0]), k
        assert "max-age" in response.headers["cache-control"] and float(response.headers["x-decode-ms"]) >= 0
    assert not torch.equal(_image(viewer.client.get("/api/frame/0.png")), _image(viewer.client.get("/api/frame/5.png")))


def test_a_fractional_time_is_decoded_from_the_interpolated_latent(viewer: SimpleNamespace) -> None:
    model = viewer.viewed.run.model
    linear = fit_interpolator(LinearInterpolator(), model.latents)
    with torch.no_grad():
        between = model.decode_latents(linear.latents_at(model.latents, torch.tensor([4.37])))
    shown = _image(viewer.client.get("/api/time.png", params={"t": 4.37, "interpolator": "linear"}))
    assert torch.equal(shown, (between[0].clamp(0, 1) * 255).round().to(torch.uint8))
    at_frame = _image(viewer.client.get("/api/time.png", params={"t": 4}))  # the run's rule: a trained frame's own
    assert torch.equal(at_frame, decode_uint8(model, [4])[0])
    assert not torch.equal(shown, at_frame)


def test_a_scale_decodes_at_that_size(viewer: SimpleNamespace) -> None:
    model = viewer.viewed.run.model
    height, width = model.frame_size
    shown = _image(viewer.client.get("/api/frame/3.png", params={"scale": 2}))
    assert tuple(shown.shape) == (3, 2 * height, 2 * width)
    with torch.no_grad():
        rendered = default_sr_head(model).render(model, torch.tensor([3]), (2 * height, 2 * width))
    assert torch.equal(shown, (rendered[0].clamp(0, 1) * 255).round().to(torch.uint8))
    assert tuple(_image(viewer.client.get("/api/frame/3.png", params={"scale": 0.5})).shape[1:]) == (
        round(height / 2), round(width / 2))  # fmt: skip


def test_truth_and_per_frame_psnr_come_from_the_source(viewer: SimpleNamespace) -> None:
    frames = viewer.viewed.run.datamodule.frames
    assert torch.equal(_image(viewer.client.get("/api/truth/2.png")), frames[[2]][0])
    metrics = viewer.client.get("/api/metrics").json()
    assert len(metrics["frame_psnr"]) == viewer.viewed.num_frames
    assert metrics["frame_psnr"][metrics["worst_frame"]] == min(metrics["frame_psnr"])
    meta = viewer.client.get("/api/meta").json()
    assert meta["frames"] == viewer.viewed.num_frames and meta["source"] is True and meta["kind"] == "run"


def test_view_tells_a_run_folder_a_checkpoint_and_a_bitstream_apart_from_the_other_kinds(
    viewer: SimpleNamespace,
) -> None:
    for path in (viewer.run, viewer.run / "checkpoints" / "last.ckpt", viewer.inrz):
        opened = open_viewed(path)
        assert isinstance(opened, ViewedRun) and opened.run.path.name in ("last.ckpt", "clip.inrz"), path


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/api/frame/999.png", 404, "out of range"),
        ("/api/frame/-1.png", 404, "out of range"),
        ("/api/frame/abc.png", 422, "index"),
        ("/api/frame/1.png?scale=0", 422, "scale"),
        ("/api/frame/1.png?scale=nan", 422, "scale"),
        ("/api/frame/1.png?scale=inf", 422, "scale"),
        ("/api/time.png?t=nan", 422, "time"),
        ("/api/time.png?t=-0.5", 422, "time"),
        ("/api/time.png", 422, "t"),
        ("/api/time.png?t=1.5&interpolator=../../etc", 422, "interpolator"),
        ("/static/..%2F..%2Fpyproject.toml", 404, ""),
        ("/static/../app.py", 404, ""),
        ("/api/../../etc/passwd", 404, ""),
    ],
)
def test_bad_values_are_one_json_line_never_a_traceback(
    viewer: SimpleNamespace, url: str, status: int, words: str
) -> None:
    response = viewer.client.get(url)
    assert response.status_code == status, (url, response.status_code, response.text)
    body = response.json()
    assert "Traceback" not in response.text and "\n" not in str(body)
    if words:
        assert words in body["error"], body


def test_the_page_and_its_assets_are_served_offline(viewer: SimpleNamespace) -> None:
    page = viewer.client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in ("viewer.js", "viewer.css"):
        assert f"/static/{asset}" in page.text and viewer.client.get(f"/static/{asset}").status_code == 200
    assert "http://" not in page.text and "https://" not in page.text  # no CDN


def test_a_burst_of_requests_is_decoded_one_at_a_time(viewer: SimpleNamespace) -> None:
    viewed, active, most = viewer.viewed, [0], [0]
    original = viewed._timed

    def counting(decode):  # noqa: ANN001, ANN202 - wraps the real decode to count overlaps
        def counted():  # noqa: ANN202
            active[0] += 1
            most[0] = max(most[0], active[0])
            try:
                return decode()
            finally:
                active[0] -= 1

        return original(counted)

    viewed._timed = counting
    try:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda k: viewer.client.get(f"/api/frame/{k % 10}.png").status_code, range(32)))
    finally:
        del viewed._timed
    assert statuses == [200] * 32 and most[0] == 1


def test_a_bitstream_is_served_decode_only(viewer: SimpleNamespace) -> None:
    client = TestClient(create_app(ViewedRun.open(str(viewer.inrz))))
    expected = decode_uint8(FittedRun.from_bitstream(viewer.inrz).model, [3])[0]
    assert torch.equal(_image(client.get("/api/frame/3.png")), expected)
    assert client.get("/api/meta").json()["source"] is False
    response = client.get("/api/truth/3.png")
    assert response.status_code == 404 and "source" in response.json()["error"]


def test_view_refuses_a_bad_port_and_a_missing_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["view", str(tmp_path / "nothing"), "--port", "80"]) == 2
    assert "--port" in error_line(capsys)
    assert run(["view", str(tmp_path / "nothing")]) == 2
    error_line(capsys)


def test_view_refuses_a_port_in_use(viewer: SimpleNamespace, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert run(["view", str(viewer.run), "--port", str(port)]) == 2
    assert f"127.0.0.1:{port}" in error_line(capsys)


# -- the page in a real browser (Debian's chromium, driven by Playwright; no browser download) ------
def _browser_path() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def browser_tab(viewed: Viewed, screenshots: Path) -> Iterator[Any]:
    """The page of ``viewed`` in headless Chromium, its app served by uvicorn on loopback, loaded and ready;
    ``tab.screenshots`` is where a test saves what it saw. Skips where there is no browser."""
    sync_api = pytest.importorskip("playwright.sync_api")
    pytest.importorskip("uvicorn")
    executable = _browser_path()
    if executable is None:
        pytest.skip("no chromium on this machine (apt-get install chromium; .ci/setup.sh does)")
    from inrzoo.viewer import served

    with served(viewed) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--force-color-profile=srgb"])
        tab = browser.new_page(viewport={"width": 1200, "height": 900})
        tab.goto(f"{url}/")
        tab.wait_for_selector("body[data-ready=true]", timeout=60_000)
        tab.screenshots = screenshots
        try:
            yield tab
        finally:
            browser.close()


@pytest.fixture(scope="module")
def page(viewer: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - a Playwright page
    """The viewer page of the fitted run."""
    with browser_tab(viewer.viewed, tmp_path_factory.mktemp("viewer_screenshots")) as tab:
        yield tab


_PIXELS = """(selector) => {
    const img = document.querySelector(selector), canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const ctx = canvas.getContext("2d"); ctx.drawImage(img, 0, 0);
    return Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data);
}"""


def shown_pixels(tab, selector: str, height: int, width: int) -> torch.Tensor:  # noqa: ANN001
    """uint8 (3, H, W): what the page's image at ``selector`` shows, read back through a canvas."""
    rgba = torch.tensor(tab.evaluate(_PIXELS, selector), dtype=torch.uint8).reshape(height, width, 4)
    return rgba[..., :3].permute(2, 0, 1)


def _set(tab, selector: str, value: str) -> None:  # noqa: ANN001
    tab.eval_on_selector(
        selector,
        "(el, v) => { el.value = v; el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input')); }",
        value,
    )


def test_the_scrubber_shows_the_models_frame(viewer: SimpleNamespace, page) -> None:  # noqa: ANN001
    model = viewer.viewed.run.model
    height, width = model.frame_size
    for k in (7, 2):
        _set(page, "#scrubber", str(k))
        page.wait_for_function("k => document.getElementById('decoded').dataset.frame === String(k)", arg=k)
        assert torch.equal(shown_pixels(page, "#decoded", height, width), decode_uint8(model, [k])[0]), k
    assert page.inner_text("#frame-number") == "2" and float(page.inner_text("#decode-ms")) >= 0
    page.screenshot(path=str(page.screenshots / "frames.png"), full_page=True)


def test_the_fractional_slider_shows_the_interpolated_decode(viewer: SimpleNamespace, page) -> None:  # noqa: ANN001
    model = viewer.viewed.run.model
    height, width = model.frame_size
    _set(page, "#interpolator", "linear")
    _set(page, "#time", "4.37")
    page.wait_for_function("() => document.getElementById('interpolated').dataset.time === '4.37'")
    linear = fit_interpolator(LinearInterpolator(), model.latents)
    with torch.no_grad():
        expected = model.decode_latents(linear.latents_at(model.latents, torch.tensor([4.37])))[0]
    assert torch.equal(
        shown_pixels(page, "#interpolated", height, width), (expected.clamp(0, 1) * 255).round().to(torch.uint8)
    )
    page.screenshot(path=str(page.screenshots / "between.png"), full_page=True)


def test_clicking_the_worst_point_of_the_psnr_plot_goes_to_that_frame(viewer: SimpleNamespace, page) -> None:  # noqa: ANN001
    worst = viewer.client.get("/api/metrics").json()["worst_frame"]
    page.click("#psnr-plot circle.worst")
    page.wait_for_function("k => document.getElementById('decoded').dataset.frame === String(k)", arg=worst)
    assert page.inner_text("#frame-number") == str(worst)
    page.screenshot(path=str(page.screenshots / "psnr.png"), full_page=True)
