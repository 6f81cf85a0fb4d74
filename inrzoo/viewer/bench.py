"""What the viewer serves for an ``inrzoo bench`` output folder: its leaderboard and rate-distortion points,
read from its ``bench.json`` (the page draws the table and an interactive plot from them)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inrzoo.bench.report import codec_psnr_at, codecs_in
from inrzoo.errors import InrzooError

#: The leaderboard's columns: what a combination's record holds (absent keys are shown blank).
MODEL_FIELDS = ("name", "backbone", "hypernet", "budget", "params", "bpp", "bpp_8bit", "psnr", "psnr_worst",
                "psnr_p5", "ms_ssim", "train_seconds", "epochs", "decode_fps")  # fmt: skip
CODEC_FIELDS = ("name", "codec", "crf", "bytes", "bpp", "psnr", "psnr_worst", "ms_ssim", "encode_seconds", "decode_fps")


@dataclass
class ViewedBench:
    """One benchmark report (``bench.json``), read once when the viewer starts."""

    report: dict[str, Any]
    directory: Path

    @classmethod
    def open(cls, path: str | Path) -> ViewedBench:
        directory = Path(path)
        file = directory / "bench.json"
        try:
            report = json.loads(file.read_text())
        except FileNotFoundError:
            raise InrzooError(f"{directory} holds no bench.json; give a folder written by `inrzoo bench`") from None
        except (OSError, ValueError) as err:
            raise InrzooError(f"{file} is not readable JSON ({err}); rerun `inrzoo bench`") from None
        results = report.get("results") if isinstance(report, dict) else None
        if not isinstance(results, list) or not all(_is_record(r) for r in results):
            raise InrzooError(
                f"{file} has no list of results with kind, name, bpp and psnr: not an `inrzoo bench` file"
            )
        return cls(report, directory)

    @property
    def title(self) -> str:
        return f"bench {self.directory} ({len(self.report['results'])} results)"

    def metadata(self) -> dict[str, Any]:
        report = self.report
        keys = ("tier", "status", "video", "resolution", "frames", "budgets", "fit_seconds", "fit_steps", "git_commit")
        return {"kind": "bench", "name": self.directory.resolve().name, "path": str(self.directory),
                **{k: report.get(k) for k in keys}, "hardware": report.get("hardware", {}).get("cpu")}  # fmt: skip

    def table(self) -> dict[str, Any]:
        """The combinations ranked by PSNR (each beside every codec at its bpp), the codec points, and what
        was skipped or failed: everything the leaderboard and the rate-distortion plot show."""
        results = self.report["results"]
        codecs = codecs_in(self.report)
        models = sorted((r for r in results if r["kind"] == "inrzoo"), key=lambda r: -r["psnr"])
        leaderboard = []
        for rank, record in enumerate(models, start=1):
            row: dict[str, Any] = {"rank": rank, **{k: record.get(k) for k in MODEL_FIELDS}}
            row["combination"] = f"{record.get('backbone', '?')}+{record.get('hypernet', '?')}"
            versus = {}
            for codec in codecs:
                at = codec_psnr_at(self.report, codec, record["bpp"])
                versus[codec] = None if at is None else {"psnr": at, "delta": record["psnr"] - at}
            row["versus"] = versus
            leaderboard.append(row)
        codec_points = sorted(
            ({k: r.get(k) for k in CODEC_FIELDS} for r in results if r["kind"] == "codec"),
            key=lambda r: (r["codec"], r["bpp"]),
        )
        return {"codecs": codecs, "leaderboard": leaderboard, "codec_points": codec_points,
                "skipped": self.report.get("skipped", []), "failed": self.report.get("failed", [])}  # fmt: skip


def _is_record(record: object) -> bool:
    """A result the page can place: a kind, a name, a positive bpp (the plot's axis is log) and a finite PSNR."""
    if not isinstance(record, dict) or record.get("kind") not in ("inrzoo", "codec") or "name" not in record:
        return False
    if record["kind"] == "codec" and "codec" not in record:
        return False
    numbers = [record.get(k) for k in ("bpp", "psnr")]
    return all(isinstance(v, int | float) and math.isfinite(v) for v in numbers) and numbers[0] > 0
