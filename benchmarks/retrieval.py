"""Retrieval from aligned latents vs from the teacher's own features, and what alignment costs.

Corpus: 2-second segments of the three sample clips (bunny 2, bikes 5, carphone 2), each fitted
twice for the same number of epochs: with alignment to the teacher and without. Queries: each
segment re-encoded with x264 (CRF 35, a near-duplicate copy the fits never saw), through the teacher:
video-to-video retrieval, the same
queries against (a) the teacher's own pooled frame features of the corpus and (b) the pooled
aligned latents. Reports R@1 (b)/(a), the PSNR of aligned vs plain fits, and the extra time.

    .venv/bin/python benchmarks/retrieval.py --out benchmarks/results/retrieval_cpu.json

The teacher is the tiny random CLIP of the tests unless ``--clip-model`` / ``--clip-pretrained`` name
real weights already in this machine's cache (nothing is downloaded here).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from inrzoo.alignment import Alignment
from inrzoo.backbones import NeRVBackbone
from inrzoo.baselines import encode_with_ffmpeg
from inrzoo.baselines.codecs import decode_video
from inrzoo.bench.environment import provenance
from inrzoo.data import VideoDataModule
from inrzoo.evaluation import evaluate_reconstruction
from inrzoo.hypernets import FiLMHyperHead
from inrzoo.io.files import claim_output
from inrzoo.models import VideoINR
from inrzoo.retrieval import RetrievalIndex, VideoEntry, pool_frames, retrieval_metrics
from inrzoo.retrieval.evaluate import evaluate_video_to_video
from inrzoo.teachers import OpenClipTeacher
from inrzoo.teachers.cache import teacher_features
from inrzoo.testing.teachers import register_tiny_open_clip

SEGMENT_SECONDS = 2.0
RESIZE = (96, 160)
SAMPLES = ("bunny", "bikes", "carphone")
QUERY_CRF = 35


def segments() -> list[tuple[str, int, int]]:
    """(sample, first frame, frames) of every whole 2-second segment."""
    out = []
    for sample in SAMPLES:
        probe = VideoDataModule(path=f"sample:{sample}", cache_dir=None)
        length = round(SEGMENT_SECONDS * probe.fps)
        out += [(sample, first, length) for first in range(0, probe.num_frames - length + 1, length)]
    return out


def fit(dm: VideoDataModule, alignment: Alignment | None, epochs: int, seed: int) -> tuple[VideoINR, float]:
    pl.seed_everything(seed, verbose=False)
    model = VideoINR(
        backbone=NeRVBackbone(channels=(24, 16, 12), strides=(4, 2, 2), stem_channels=16),
        hypernet=FiLMHyperHead(hidden=32), latent_dim=32, num_frames=dm.num_frames, frame_size=dm.frame_size,
        learning_rate=5e-3, alignment=alignment,
    )  # fmt: skip
    trainer = pl.Trainer(
        accelerator="cpu", max_epochs=epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0,
    )  # fmt: skip
    start = time.perf_counter()
    trainer.fit(model, datamodule=dm)
    return model, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/retrieval_cpu.json"))
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--weight", type=float, default=0.1, help="alignment loss weight")
    parser.add_argument("--clip-model", default=None, help="a real open_clip model whose weights are cached")
    parser.add_argument("--clip-pretrained", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = claim_output(args.out, args.overwrite)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    run_start = time.perf_counter()
    cache = Path(tempfile.mkdtemp(prefix="inrzoo-retrieval-features-"))
    if args.clip_model:
        teacher = OpenClipTeacher(args.clip_model, pretrained=args.clip_pretrained)
        teacher_name = f"{args.clip_model}/{args.clip_pretrained}"
    else:
        torch.manual_seed(args.seed)
        teacher = OpenClipTeacher(register_tiny_open_clip(cache / "configs"), pretrained=None)
        teacher_name = "tiny random CLIP (inrzoo.testing.teachers, embed 32)"

    records: list[dict[str, Any]] = []
    aligned_entries, corpus_teacher, queries, names = [], [], [], []
    for sample, first, length in segments():
        dm = VideoDataModule(path=f"sample:{sample}", resize=RESIZE, first_frame=first, max_frames=length, batch_size=4)
        name = dm.video_name
        aligned, aligned_seconds = fit(dm, Alignment(teacher=teacher, weight=args.weight, cache_dir=str(cache)),
                                       args.epochs, args.seed)  # fmt: skip
        plain, plain_seconds = fit(dm, None, args.epochs, args.seed)
        aligned_result, _ = evaluate_reconstruction(aligned, dm.frames)
        plain_result, _ = evaluate_reconstruction(plain, dm.frames)
        with torch.no_grad():
            aligned_entries.append(VideoEntry(name, f"sample:{sample}", aligned.aligned_embeddings().cpu()))
        corpus_teacher.append(pool_frames(teacher_features(teacher, dm.frames, dm.video_key, cache, progress=False)))
        frames = dm.frames[:]  # in memory: the encoder takes the clip whole
        copy = encode_with_ffmpeg(frames, cache / "queries", "libx264", crf=QUERY_CRF, preset="medium", fps=dm.fps)
        copy_frames, _ = decode_video(copy.path, dm.num_frames)
        queries.append(pool_frames(teacher_features(teacher, copy_frames, None, progress=False)))
        names.append(name)
        records.append({
            "video": name, "frames": dm.num_frames, "psnr_aligned": aligned_result.psnr,
            "psnr_plain": plain_result.psnr, "fit_seconds_aligned": aligned_seconds, "fit_seconds_plain": plain_seconds,
            "params": plain_result.params,
        })  # fmt: skip
        print(f"{name}: PSNR aligned {aligned_result.psnr:.2f} / plain {plain_result.psnr:.2f} dB, "
              f"{aligned_seconds:.0f} s / {plain_seconds:.0f} s", flush=True)  # fmt: skip

    query_matrix = torch.stack(queries)
    targets = torch.arange(len(names))
    teacher_metrics = retrieval_metrics(query_matrix @ torch.stack(corpus_teacher).T, targets)
    aligned_metrics = {
        pooling: evaluate_video_to_video(RetrievalIndex(aligned_entries, None, pooling), query_matrix, names)
        for pooling in ("mean", "attention")
    }
    psnr_delta = sum(r["psnr_aligned"] - r["psnr_plain"] for r in records) / len(records)
    extra_time = sum(r["fit_seconds_aligned"] for r in records) / sum(r["fit_seconds_plain"] for r in records)
    report = {
        "name": "retrieval", "tier": "cpu", "teacher": teacher_name, "resize": list(RESIZE),
        "segment_seconds": SEGMENT_SECONDS, "epochs": args.epochs, "alignment_weight": args.weight,
        "queries": f"each segment re-encoded with x264 CRF {QUERY_CRF}, pooled teacher features (video-to-video)",
        "teacher_retrieval": teacher_metrics, "aligned_retrieval": aligned_metrics,
        "r1_ratio_mean_pooling": aligned_metrics["mean"]["R@1"] / max(teacher_metrics["R@1"], 1e-9),
        "r1_ratio_attention_pooling": aligned_metrics["attention"]["R@1"] / max(teacher_metrics["R@1"], 1e-9),
        "mean_psnr_delta_db": psnr_delta, "aligned_fit_time_ratio": extra_time, "videos": records,
        **provenance(), "seed": args.seed,
        "run_seconds": time.perf_counter() - run_start,
    }  # fmt: skip
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("teacher_retrieval", "aligned_retrieval", "r1_ratio_mean_pooling",
                                             "mean_psnr_delta_db", "aligned_fit_time_ratio")}, indent=1))  # fmt: skip
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
