"""What coding the latents across time (``inrzoo compress --gop G``) saves, per clip, at equal quality.

Fits ``configs/compress_rd.yaml`` (the rate-term quickstart) for a fixed number of epochs on each clip
(bound by epochs, not the wall clock: the figures do not move with the machine's load), then writes the
same fit as .inrz files at several GOP lengths and reports bytes, bpp, the file's split (latents,
weights, models), bits per parameter and PSNR of decoding each file. ``--gop 0`` is the independent
coding every file had before; the PSNR is the same at every G (the prediction is exact).

Each clip is fitted once per ``--rate-gops`` value: ``rate.gop`` 0 trains the latents for independent
coding, ``rate.gop`` G estimates them as coded across time (so the fit learns latents that change
little from frame to frame); the same files are written from both.

    .venv/bin/python benchmarks/temporal_latents.py --out benchmarks/results/temporal_latents_cpu.json --overwrite
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any

from inrzoo.bench.environment import provenance
from inrzoo.cli import main as inrzoo_main
from inrzoo.io.files import claim_output
from inrzoo.runs import compress_run

REPO = Path(__file__).resolve().parent.parent
#: clip -> resize (None: native). Bikes is halved to keep the fit short; Bunny is the cpu tier's 180x320.
CLIPS = {"sample:bunny": "[180,320]", "sample:bikes": "[136,320]", "sample:carphone": "null"}
GOPS = (0, 1, 4, 16, 1_000_000)  # the last: one key for the whole clip


def fit(clip: str, resize: str, epochs: int, root: Path, rate_gop: int = 0) -> Path:
    """``inrzoo fit --config configs/compress_rd.yaml`` on ``clip`` for ``epochs`` epochs (no time limit)."""
    save_dir = root / f"{clip.replace(':', '_')}_rategop{rate_gop}"
    run_dir = save_dir / "compress_rd" / "version_0"
    if (run_dir / "checkpoints" / "last.ckpt").exists():  # --work reused: the same command's fit
        return run_dir
    args = [
        "fit", "--config", str(REPO / "configs" / "compress_rd.yaml"), f"--data.init_args.path={clip}",
        f"--data.init_args.resize={resize}", f"--trainer.max_epochs={epochs}", "--trainer.max_time=null",
        "--trainer.enable_progress_bar=false", f"--trainer.logger.init_args.save_dir={save_dir}",
        f"--model.init_args.rate.gop={rate_gop}",
    ]  # fmt: skip
    if inrzoo_main(args) != 0:
        raise RuntimeError(f"the fit of {clip} failed")
    return run_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "temporal_latents_cpu.json")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--clips", default=",".join(CLIPS), help="comma-separated, from " + ", ".join(CLIPS))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rate-gops", default="0,16", help="comma-separated rate.gop of the fits (0: independent)")
    parser.add_argument("--work", type=Path, default=None, help="fits go here (kept; an existing fit is reused)")
    args = parser.parse_args(argv)
    out = claim_output(args.out, args.overwrite)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    work = args.work or Path(tempfile.mkdtemp(prefix="inrzoo-gop-"))
    report: dict[str, Any] = {"name": "temporal_latents", "config": "configs/compress_rd.yaml", "epochs": args.epochs}
    report["clips"] = []
    rate_gops = [int(g) for g in args.rate_gops.split(",")]
    for clip in (c.strip() for c in args.clips.split(",") if c.strip()):
        for rate_gop in rate_gops:
            run_dir = fit(clip, CLIPS[clip], args.epochs, work, rate_gop)
            files = []
            for gop in GOPS:
                name = f"{clip.replace(':', '_')}_rategop{rate_gop}_gop{gop}.inrz"
                result = compress_run(run_dir, work / name, keep_alignment=False, overwrite=True, gop=gop)
                files.append({key: result[key] for key in ("bytes", "bpp", "psnr", "split", "bits_per_parameter")})
                files[-1].update(gop=gop, rate_estimate_bytes=result["rate_estimate_bytes"])
                print(f"{clip} rate.gop {rate_gop} gop {gop}: {result['bytes']:,} bytes, {result['psnr']:.2f} dB",
                      flush=True)  # fmt: skip
            independent = files[0]["bytes"]
            for record in files:
                record["bytes_vs_independent"] = record["bytes"] / independent
            entry = {"clip": clip, "resize": CLIPS[clip], "rate_gop": rate_gop, "frames": result["frames"]}
            report["clips"].append({**entry, "files": files})
    report.update(provenance())
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
