"""Coordinate MLPs on sampled pixels: how many pixels a training step should score, at equal wall clock.

Each cell is one ``inrzoo bench`` fit of the cpu tier (Bunny 180x320, 132 frames, the FiLM head, sized to 100k
parameters, 35 s of fitting) with ``--sampled_pixels`` (0: whole frames) and a learning rate, scored on every
pixel of every frame. Timed, so the figures move with the machine's load: run it alone (under the CPU lock
here), and compare cells of one run. One JSON line per cell is appended to ``--out``.

    .venv/bin/python benchmarks/pixel_sampling_scan.py --cells siren:0:1e-3,siren:1024:1e-3,siren:256:1e-3:4 \
        --out OUT.jsonl
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from inrzoo.bench.runner import BenchOptions, quiet_lightning, run_bench


def parse_cell(text: str) -> tuple[str, int, float, int]:
    """``backbone:pixels:rate[:batch]`` -> (backbone, sampled pixels (0: whole frames), learning rate, batch)."""
    backbone, pixels, rate, *batch = text.split(":")
    if len(batch) > 1:
        raise ValueError(text)
    return backbone, int(pixels), float(rate), int(batch[0]) if batch else 1


def run_cell(backbone: str, pixels: int, rate: float, batch: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="inrzoo-pixel-scan-") as folder:
        options = BenchOptions(
            backbones=backbone, hypernets="film", tier="cpu", codecs="none", fit_seconds=seconds,
            sampled_pixels=pixels, learning_rate=rate, batch_size=batch, out=Path(folder),
        )  # fmt: skip
        [record] = [r for r in run_bench(options)["results"] if r["kind"] == "inrzoo"]
    keys = ("psnr", "psnr_worst", "psnr_p5", "steps", "epochs", "train_seconds", "params", "backbone_kwargs")
    row = {"backbone": backbone, "sampled_pixels": pixels, "learning_rate": rate, "batch_size": batch}
    return {**row, **{k: record[k] for k in keys}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cells",
        required=True,
        help="comma-separated backbone:pixels:rate[:batch] (pixels 0: whole frames; batch 1 unless given)",
    )
    parser.add_argument("--seconds", type=float, default=35.0, help="wall clock of each fit")
    parser.add_argument("--out", type=Path, required=True, help="JSON lines, appended")
    args = parser.parse_args()
    try:
        cells = [parse_cell(text) for text in args.cells.split(",")]
    except ValueError:
        parser.error(f"--cells: expected backbone:pixels:rate[:batch] items separated by commas, got {args.cells!r}")
    quiet_lightning()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for backbone, pixels, rate, batch in cells:
        row = run_cell(backbone, pixels, rate, batch, args.seconds)
        with args.out.open("a") as lines:
            lines.write(json.dumps(row) + "\n")
        print(f"{backbone} pixels {pixels} lr {rate:g} batch {batch}: {row['psnr']:.2f} dB, {row['steps']} steps",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
