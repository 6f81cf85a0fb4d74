"""The README's screenshot of ``inrzoo view``: a fitted run's page in headless Chromium (Debian's).

    .venv/bin/python benchmarks/viewer_screenshot.py runs/quickstart/version_0 \\
        --out benchmarks/results/viewer_quickstart.png --frame 42
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from inrzoo.io.files import claim_output
from inrzoo.viewer import ViewedRun, served


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a run folder, .ckpt or .inrz")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--frame", type=int, default=0, help="the frame the scrubber is moved to")
    parser.add_argument("--time", type=float, default=None, help="the fractional time shown (default: frame + 0.5)")
    args = parser.parse_args(argv)
    out = claim_output(args.out, args.overwrite)
    from playwright.sync_api import sync_playwright

    viewed = ViewedRun.open(args.run)
    moment = args.frame + 0.5 if args.time is None else args.time
    with served(viewed) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"))
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(f"{url}/")
        page.wait_for_selector("body[data-ready=true]", timeout=600_000)  # the PSNR plot decodes the whole video
        move = "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }"
        page.eval_on_selector("#scrubber", move, str(args.frame))
        page.wait_for_function("k => document.getElementById('decoded').dataset.frame === String(k)", arg=args.frame)
        shown = str(round(moment, 2))  # as the slider writes its value back (42.5, not 42.50)
        page.eval_on_selector("#time", move, shown)
        page.wait_for_function("t => document.getElementById('interpolated').dataset.time === t", arg=shown)
        page.screenshot(path=str(out), full_page=True)
        browser.close()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
