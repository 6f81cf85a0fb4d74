"""Frame request latency of ``inrzoo view`` against decoding the same frame in-process (issue 16).

Serves a fitted run with uvicorn on loopback, asks for ``--requests`` random frames one after another
over HTTP (``/api/frame/{k}.png``), and times the same frames decoded in-process (the model's decode
alone, then with the PNG encoding the server adds). Without ``--run`` it first fits the quickstart for
one epoch on Bunny 180x320 (decode cost does not depend on how trained a model is).

    .venv/bin/python benchmarks/viewer_latency.py --out benchmarks/results/viewer_latency_cpu.json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from inrzoo.bench.environment import provenance
from inrzoo.cli import main as inrzoo_main
from inrzoo.io.files import claim_output
from inrzoo.runs.decoding import decode_uint8
from inrzoo.viewer import ViewedRun, served
from inrzoo.viewer.session import png_bytes

REPO = Path(__file__).resolve().parent.parent


def quickstart_run(root: Path) -> Path:
    args = [
        "fit", "--config", str(REPO / "configs" / "quickstart.yaml"), "--trainer.max_epochs=1",
        "--trainer.max_time=null", "--trainer.enable_progress_bar=false", f"--trainer.logger.init_args.save_dir={root}",
    ]  # fmt: skip
    if inrzoo_main(args) != 0:
        raise RuntimeError("the quickstart fit failed")
    return root / "quickstart" / "version_0"


def _summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"median_ms": 1000 * statistics.median(ordered), "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "viewer_latency_cpu.json")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--run", default=None, help="a run folder, .ckpt or .inrz (default: a 1-epoch quickstart)")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    out = claim_output(args.out, args.overwrite)
    import httpx

    run = args.run or str(quickstart_run(Path(tempfile.mkdtemp(prefix="inrzoo-view-"))))
    viewed = ViewedRun.open(run)
    frames = [random.Random(i).randrange(viewed.num_frames) for i in range(args.requests)]
    model = viewed.run.model
    decode, encoded, served_times = [], [], []
    for k in frames:
        start = time.perf_counter()
        frame = decode_uint8(model, [k])[0]
        decode.append(time.perf_counter() - start)
        png_bytes(frame)
        encoded.append(time.perf_counter() - start)
    with served(viewed) as url, httpx.Client(base_url=url) as client:
        client.get("/api/frame/0.png")  # the first request sets up the connection
        for k in frames:
            start = time.perf_counter()
            response = client.get(f"/api/frame/{k}.png")
            served_times.append(time.perf_counter() - start)
            response.raise_for_status()
    height, width = model.frame_size
    report = {
        "name": "viewer_latency", "run": run, "frames": viewed.num_frames, "size": [height, width],
        "requests": args.requests, "in_process_decode": _summary(decode),
        "in_process_decode_and_png": _summary(encoded), "http_frame_request": _summary(served_times),
    }  # fmt: skip
    report["http_over_decode_median"] = (
        report["http_frame_request"]["median_ms"] / report["in_process_decode"]["median_ms"]
    )
    report.update(provenance())
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("in_process_decode", "in_process_decode_and_png", "http_frame_request")}))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
