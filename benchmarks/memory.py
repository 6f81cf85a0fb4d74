"""Peak memory of a long 1080p video through cache, fit, compress and decompress (issue 14).

A synthetic 1920x1080 clip of 1,800 frames (ffmpeg ``testsrc2``, 30 fps; 11 GB as uint8 frames) is decoded
into the frame cache, fitted for a few steps with a tiny model (the fit report scores every frame and writes
its mp4), compressed to ``.inrz`` (scored again against the cache) and decompressed to mp4. Each step is
its own ``inrzoo`` process; its peak resident memory is ``getrusage(RUSAGE_SELF).ru_maxrss`` read at its
end; the resident memory of it and its helper processes together (the ffmpeg decoder or encoder), sampled
from /proc every 0.2 s, is reported beside it (``RUSAGE_CHILDREN`` cannot say: a child inherits its parent's
high-water mark across fork and exec). The bar: that total under 2 GiB.

    nice -n 10 .venv/bin/python benchmarks/memory.py --out benchmarks/results/memory_cpu.json

CPU heavy (about half an hour on 2 cores); the slow lane runs it (``pytest -m slow``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LIMIT_MB = 2048

#: Runs one inrzoo command in this process, then prints its peak memory (KiB on Linux) as the last line.
CHILD = """
import json, resource, sys
from inrzoo.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as stop:
    status = stop.code or 0
usage = {"self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "status": status}
print("PEAK_RSS " + json.dumps(usage), flush=True)
sys.exit(status)
"""


def make_clip(path: Path, frames: int, size: str, rate: int = 30) -> None:
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}",
               "-frames:v", str(frames), "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-g", "60",
               "-pix_fmt", "yuv420p", str(path)]  # fmt: skip
    subprocess.run(command, check=True)


def tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants now (kB, from /proc): the ffmpeg helpers included."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:")), 0)
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue  # it ended meanwhile
    return total


def measured(name: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``inrzoo ARGS`` in a fresh process: its own peak RSS (exact, from the kernel), the peak of it plus its
    helper processes together (sampled every 0.2 s), and the wall time."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    tree_peak = 0
    while process.poll() is None:
        tree_peak = max(tree_peak, tree_rss_kb(process.pid))
        time.sleep(0.2)
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    line = next((x for x in reversed(stdout.splitlines()) if x.startswith("PEAK_RSS ")), None)
    if process.returncode != 0 or line is None:
        raise SystemExit(f"{name} failed (status {process.returncode}):\n{stderr[-3000:]}")
    own = json.loads(line.removeprefix("PEAK_RSS "))["self_kb"] / 1024
    together = max(tree_peak / 1024, own)
    print(f"{name:10s} peak RSS {own:7.0f} MB ({together:7.0f} MB with its ffmpeg helpers) in {seconds:6.0f} s")
    return {"peak_rss_mb": round(own, 1), "with_helpers_peak_rss_mb": round(together, 1), "seconds": round(seconds, 1)}


def fit_args(video: Path, runs: Path, steps: int) -> list[str]:
    """The quickstart's model made tiny for 1080p: strides 5x4x3 and a head stride of 2 from a 9x16 latent."""
    backbone = "--model.init_args.backbone.init_args"
    return [
        "fit", "--config", str(REPO / "configs" / "quickstart.yaml"),
        f"--data.init_args.path={video}", "--data.init_args.resize=null", "--data.init_args.batch_size=1",
        f"{backbone}.channels=[16,8,8]", f"{backbone}.strides=[5,4,3]", f"{backbone}.kernel_sizes=[3,3,3]",
        "--model.init_args.frame_encoder=null",
        "--trainer.max_epochs=1", f"--trainer.limit_train_batches={steps}", "--trainer.limit_val_batches=0",
        "--trainer.num_sanity_val_steps=0", "--trainer.max_time=null", "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false", f"--trainer.logger.init_args.save_dir={runs}",
    ]  # fmt: skip


def run_benchmark(work: Path, frames: int, size: str, steps: int) -> dict[str, Any]:
    env = {**os.environ, "INRZOO_CACHE_DIR": str(work / "cache"), "PYTHONPATH": str(REPO)}
    video = work / f"testsrc2_{size}_{frames}.mp4"
    start = time.perf_counter()
    make_clip(video, frames, size)
    print(f"clip       {video.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - start:.0f} s", flush=True)
    steps_report = {"fit": measured("fit", fit_args(video, work / "runs", steps), env)}
    [run_dir] = (work / "runs").glob("*/version_0")
    record = json.loads((run_dir / "metrics.json").read_text())
    bitstream = work / "video.inrz"
    steps_report["compress"] = measured("compress", ["compress", str(run_dir), "-o", str(bitstream)], env)
    output = work / "decoded.mp4"
    steps_report["decompress"] = measured("decompress", ["decompress", str(bitstream), "-o", str(output)], env)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0",
         str(output)], capture_output=True, text=True, check=True,
    )  # fmt: skip
    cache_bytes = sum(p.stat().st_size for p in (work / "cache").rglob("*") if p.is_file())
    peak = max(s["with_helpers_peak_rss_mb"] for s in steps_report.values())
    return {
        "name": "memory-1080p",
        "video": f"ffmpeg testsrc2 {size} 30 fps, libx264 ultrafast crf 30",
        "frames": frames,
        "resolution": [int(v) for v in reversed(size.split("x"))],
        "frames_bytes_uint8": frames * 3 * int(size.split("x")[0]) * int(size.split("x")[1]),
        "cache_bytes": cache_bytes,
        "fit_steps": steps,
        "fit_psnr": record["psnr"],
        "decoded_mp4_frames": int(probe.stdout.strip().splitlines()[0]),
        "steps": steps_report,
        "peak_rss_mb": round(peak, 1),
        "limit_mb": LIMIT_MB,
        "passed": peak < LIMIT_MB,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1800)
    parser.add_argument("--size", default="1920x1080", help="WIDTHxHEIGHT")
    parser.add_argument("--steps", type=int, default=3, help="training steps of the fit")
    parser.add_argument("--work", default=None, help="scratch folder (default: a temporary one, removed)")
    parser.add_argument("--out", default=None, help="JSON record to write")
    args = parser.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        raise SystemExit("benchmarks/memory.py needs the ffmpeg binary (apt install ffmpeg)")
    scratch = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="inrzoo-memory-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        report = run_benchmark(scratch, args.frames, args.size, args.steps)
    finally:
        if args.work is None:
            shutil.rmtree(scratch, ignore_errors=True)
    sys.path.insert(0, str(REPO))
    from inrzoo.bench.environment import provenance

    report.update(provenance())
    text = json.dumps(report, indent=2) + "\n"
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    print(text)
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
