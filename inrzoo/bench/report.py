"""Benchmark outputs: the JSON record, a Markdown leaderboard and a rate-distortion plot.

inrzoo models are placed at their 16-bit size (``bpp``: every parameter stored as a
half-precision float, the cost of a file with no quantisation loss); ``bpp_8bit`` is shown
beside it. Each model is compared with each codec *at the same bpp*, by interpolating the
codec's CRF sweep from the same run linearly in log(bpp).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inrzoo.io.files import claim_output

OUTPUT_FILES = ("bench.json", "leaderboard.md", "rd.png")


def codec_psnr_at(report: dict[str, Any], codec: str, bpp: float) -> float | None:
    """The codec's PSNR at ``bpp``, interpolated between its CRF points; None outside the sampled range."""
    points = sorted((r["bpp"], r["psnr"]) for r in report["results"] if r["kind"] == "codec" and r["codec"] == codec)
    for (bpp_a, psnr_a), (bpp_b, psnr_b) in zip(points, points[1:], strict=False):
        if bpp_a <= bpp <= bpp_b:
            if bpp_b == bpp_a:
                return max(psnr_a, psnr_b)
            t = (math.log(bpp) - math.log(bpp_a)) / (math.log(bpp_b) - math.log(bpp_a))
            return psnr_a + t * (psnr_b - psnr_a)
    return None


def codecs_in(report: dict[str, Any]) -> list[str]:
    return sorted({r["codec"] for r in report["results"] if r["kind"] == "codec"})


def _budgets(report: dict[str, Any]) -> str:
    return " / ".join(f"{b:,}" for b in report["budgets"])


def _fmt(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def leaderboard(report: dict[str, Any]) -> str:
    """Markdown: the combinations ranked by PSNR, each beside every codec at the same bpp; then the codecs."""
    models = sorted((r for r in report["results"] if r["kind"] == "inrzoo"), key=lambda r: -r["psnr"])
    codecs = codecs_in(report)
    budget = f"{report['fit_seconds']:g} s" if report.get("fit_seconds") else f"{report['fit_steps']} steps"
    lines = [
        f"# inrzoo bench: {report['tier']} tier",
        "",
        f"{report['video']} at {report['resolution'][0]}x{report['resolution'][1]}, {report['frames']} frames; "
        f"every combination sized to {_budgets(report)} parameters and trained for {budget}. "
        "bpp = 16-bit parameters x 16 / (frames x H x W); codec PSNR is interpolated at the model's bpp "
        "from the same run's CRF sweep (blank: outside the sweep).",
        "",
        "| rank | combination | params | bpp | bpp 8-bit | PSNR (dB) | worst frame | 5th pct | MS-SSIM | train s "
        "| epochs | decode fps | " + " | ".join(f"{c} PSNR @bpp | vs {c}" for c in codecs) + (" |" if codecs else "|"),
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|---:|" * len(codecs),
    ]
    for rank, r in enumerate(models, start=1):
        cells = [
            str(rank), r["name"], f"{r['params']:,}", f"{r['bpp']:.4f}", f"{r['bpp_8bit']:.4f}", f"{r['psnr']:.2f}",
            _fmt(r.get("psnr_worst"), 2), _fmt(r.get("psnr_p5"), 2), _fmt(r["ms_ssim"], 4),
            f"{r['train_seconds']:.0f}", f"{r['epochs']:.1f}", f"{r['decode_fps']:.1f}",
        ]  # fmt: skip
        for codec in codecs:
            at = codec_psnr_at(report, codec, r["bpp"])
            cells += [_fmt(at, 2), "" if at is None else f"{r['psnr'] - at:+.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    codec_rows = [r for r in report["results"] if r["kind"] == "codec"]
    if codec_rows:
        lines += [
            "",
            "| codec | bytes | bpp | PSNR (dB) | worst frame | 5th pct | MS-SSIM | encode s | decode fps |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in codec_rows:
            lines.append(
                f"| {r['name']} | {r['bytes']:,} | {r['bpp']:.4f} | {r['psnr']:.2f} | {_fmt(r.get('psnr_worst'), 2)} "
                f"| {_fmt(r.get('psnr_p5'), 2)} | {_fmt(r['ms_ssim'], 4)} "
                f"| {r['encode_seconds']:.1f} | {r['decode_fps']:.0f} |"
            )
    for title, key, field in (("Skipped", "skipped", "reason"), ("Failed", "failed", "error")):
        if report.get(key):
            lines += ["", f"{title}:", ""] + [f"- {item['name']}: {item[field]}" for item in report[key]]
    return "\n".join(lines) + "\n"


def plot_rate_distortion(report: dict[str, Any], path: Path) -> None:
    """PSNR vs bpp: one marker per combination, one curve per codec."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    for codec in codecs_in(report):
        points = sorted(
            (r["bpp"], r["psnr"]) for r in report["results"] if r["kind"] == "codec" and r["codec"] == codec
        )
        ax.plot(*zip(*points, strict=True), "-o", markersize=3, label=f"{codec} (veryslow, CRF sweep)")
    markers = "s^vD<>pP*Xh"
    combinations: dict[str, list[tuple[float, float]]] = {}
    for r in report["results"]:
        if r["kind"] == "inrzoo":
            combinations.setdefault(f"{r['backbone']}+{r['hypernet']}", []).append((r["bpp"], r["psnr"]))
    for i, (name, points) in enumerate(combinations.items()):
        ax.plot(*zip(*sorted(points), strict=True), "--" + markers[i % len(markers)], markersize=7, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("bits per pixel (inrzoo: 16-bit parameters)")
    ax.set_ylabel("PSNR (dB)")
    budget = f"{report['fit_seconds']:g} s" if report.get("fit_seconds") else f"{report['fit_steps']} steps"
    ax.set_title(
        f"{report['video']} {report['resolution'][0]}x{report['resolution'][1]}, {report['frames']} frames: "
        f"{_budgets(report)} params, {budget} each"
    )
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # a run whose every fit failed has nothing to label
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def claim_outputs(out: Path, overwrite: bool) -> dict[str, Path]:
    """Refuse before any work if ``out`` already holds results (unless ``overwrite``)."""
    return {name: claim_output(out / name, overwrite) for name in OUTPUT_FILES}


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temp file + rename, so a crash never leaves half a results file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(report: dict[str, Any], path: Path) -> None:
    _atomic_write(path, lambda tmp: tmp.write_text(json.dumps(report, indent=2) + "\n"))


def write_outputs(report: dict[str, Any], paths: dict[str, Path]) -> None:
    write_json(report, paths["bench.json"])
    _atomic_write(paths["leaderboard.md"], lambda tmp: tmp.write_text(leaderboard(report)))
    _atomic_write(paths["rd.png"], lambda tmp: plot_rate_distortion(report, tmp))
