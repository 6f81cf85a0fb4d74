"""The README's screenshots of ``inrzoo view``: a fitted run's page, or a bench folder's with the pointer on
its best combination, in headless Chromium (Debian's).

    .venv/bin/python benchmarks/viewer_screenshot.py runs/quickstart/version_0 \\
        --out benchmarks/results/viewer_quickstart.png --frame 42
    .venv/bin/python benchmarks/viewer_screenshot.py benchmarks/results/bench_cpu \\
        --out benchmarks/results/viewer_bench_cpu.png
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from inrzoo.io.files import claim_output
from inrzoo.viewer import ViewedBench, open_viewed, served


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="a run folder, .ckpt or .inrz, or an `inrzoo bench` folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--frame", type=int, default=0, help="the frame the scrubber is moved to")
    parser.add_argument("--time", type=float, default=None, help="the fractional time shown (default: frame + 0.5)")
    args = parser.parse_args(argv)
    out = claim_output(args.out, args.overwrite)
    from playwright.sync_api import sync_playwright

    viewed = open_viewed(args.path)
    with served(viewed) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"))
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(f"{url}/")
        page.wait_for_selector("body[data-ready=true]", timeout=600_000)  # the PSNR plot decodes the whole video
        if isinstance(viewed, ViewedBench):
            _point_at_the_best(page, viewed)
        else:
            _scrub(page, args.frame, args.frame + 0.5 if args.time is None else args.time)
        page.screenshot(path=str(out), full_page=True)
        browser.close()
    print(f"wrote {out}")
    return 0


def _point_at_the_best(page, viewed: ViewedBench) -> None:  # noqa: ANN001 - a Playwright page
    # The whole page in the viewport first: the full-page capture's resize would move the pointer off the point.
    page.set_viewport_size({"width": 1100, "height": page.evaluate("document.documentElement.scrollHeight")})
    best = viewed.table()["leaderboard"][0]["name"]
    box = page.locator(f"#rd-plot circle.point[data-name='{best}']").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#tooltip:not([hidden])")


def _scrub(page, frame: int, moment: float) -> None:  # noqa: ANN001 - a Playwright page
    """The scrubber moved to ``frame`` and the fractional slider to ``moment``, both shown."""
    move = "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }"
    page.eval_on_selector("#scrubber", move, str(frame))
    page.wait_for_function("k => document.getElementById('decoded').dataset.frame === String(k)", arg=frame)
    shown = str(round(moment, 2))  # as the slider writes its value back (42.5, not 42.50)
    page.eval_on_selector("#time", move, shown)
    page.wait_for_function("t => document.getElementById('interpolated').dataset.time === t", arg=shown)


if __name__ == "__main__":
    raise SystemExit(main())
