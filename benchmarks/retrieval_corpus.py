"""Retrieval at corpus scale (issue 17): aligned latents of >= 200 packed fits against the teacher's own features.

Corpus: two-second segments (``--fps`` frames a second, ``--size``), all of one geometry so they pack: the
three sample clips cut every second (overlapping windows: neighbours look alike) and synthetic scenes made by
ffmpeg's lavfi sources (testsrc2, mandelbrot, life, cellauto, gradients, sierpinski, mptestsrc) with varied
seeds and parameters, each source cut into two segments (alike too). Every segment is fitted with alignment
to the teacher by ``fit-many --pack``'s pack process (:func:`inrzoo.cli.fit_pack.main`, each pack one batched
computation) in ``--workers`` processes of one thread each, the quickstart model for ``--epochs`` epochs.

Queries: each segment degraded as a near-duplicate found in the wild would be: a random crop (55-80% of each
side, resized back), a hue rotation, a saturation, brightness and contrast change, and a low-bitrate x264
re-encode (``--query-kbps``), each query drawn with its own seed. A query is its teacher features, pooled
(video-to-video retrieval), against (a) the teacher's pooled features of the original segments and (b) the
``inrzoo index`` of the aligned latents (pixels never read). Reports R@1/5/10 and median rank of both, the
ratio (b)/(a) of R@1, the index build times (teacher: encode every frame; latents: read every run) and the
query time.

The teacher is a tiny CLIP with random weights (``inrzoo.testing.teachers``, 32-dim, 32x32 input): nothing
downloads here, so its features say nothing about meaning; they are a fixed, non-trivial function of the
pixels that the latents must learn to reproduce, which is what the ratio measures.

    flock -x /work/cpu.lock .venv/bin/python benchmarks/retrieval_corpus.py \\
        --out benchmarks/results/retrieval_corpus_cpu.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SAMPLES = {"bunny": 132 / 25, "bikes": 250 / 25, "carphone": 120 / (30000 / 1001)}  # seconds of each clip
SEGMENT_SECONDS = 2
TINY_CLIP = "inrzoo-tiny-clip"


@dataclass(frozen=True)
class Segment:
    """One corpus item: ``seconds`` of ``source`` (a sample clip or a lavfi graph) from ``start``."""

    name: str
    source: str
    start: float
    lavfi: bool


def synthetic_sources(size: tuple[int, int], fps: int) -> list[tuple[str, str]]:
    """(name, lavfi graph) of every synthetic scene: ~100 sources, each with its own parameters or seed."""
    height, width = size
    s = f"size={width}x{height}:rate={fps}"
    out = [(f"testsrc2_h{h}", f"testsrc2={s},hue=h={h}") for h in range(0, 360, 45)]
    for i in range(12):
        x, y = -0.75 + 0.05 * math.cos(i), 0.1 + 0.05 * math.sin(i)
        outer = ("iteration_count", "normalized_iteration_count", "white", "outz")[i % 4]
        out.append((f"mandelbrot{i}", f"mandelbrot={s}:start_x={x:.4f}:start_y={y:.4f}:start_scale={2.0 + i / 4}:"
                                      f"outer={outer}:end_scale={0.2 + i / 20}"))  # fmt: skip
    for i in range(20):
        colors = ("white", "yellow", "cyan", "red")[i % 4]
        out.append((f"life{i}", f"life={s}:random_seed={i}:ratio={0.1 + 0.03 * i:.2f}:mold={10 * (i % 3)}:"
                                f"life_color={colors}:death_color=#{(40 * i) % 256:02x}0060"))  # fmt: skip
    rules = (18, 22, 26, 30, 41, 45, 54, 57, 60, 62, 73, 90, 102, 105, 109, 110, 122, 126, 150, 169)
    for i, rule in enumerate(rules):
        out.append((f"cellauto_r{rule}", f"cellauto={s}:rule={rule}:random_seed={i}:scroll={i % 2},"
                                         f"hue=h={18 * i}:s={1 + i % 3}"))  # fmt: skip
    kinds = ("linear", "radial", "circular", "spiral")
    for i in range(20):
        out.append((f"gradients{i}", f"gradients={s}:seed={i}:nb_colors={2 + i % 7}:type={kinds[i % 4]}:"
                                     f"speed={0.01 + 0.005 * (i % 4):.3f}"))  # fmt: skip
    for i in range(8):
        out.append((f"sierpinski{i}", f"sierpinski={s}:seed={i}:jump={1 + i}:type={('carpet', 'triangle')[i % 2]}"))
    for test in ("dc_luma", "dc_chroma", "freq_luma", "freq_chroma", "amp_luma", "amp_chroma", "cbp", "mv",
                 "ring1", "ring2"):  # fmt: skip
        out.append((f"mptestsrc_{test}", f"mptestsrc=rate={fps}:test={test},scale={width}:{height}"))
    return out


def plan_segments(fps: int, size: tuple[int, int]) -> list[Segment]:
    """Every corpus segment: the sample clips' whole two-second windows every second, and two consecutive
    segments of each synthetic source."""
    segments = []
    for sample, seconds in SAMPLES.items():
        for start in range(int(seconds - SEGMENT_SECONDS) + 1):
            segments.append(Segment(f"{sample}_{start:02d}s", f"sample:{sample}", float(start), False))
    for name, graph in synthetic_sources(size, fps):
        segments += [Segment(f"{name}_{k}", graph, float(k * SEGMENT_SECONDS), True) for k in range(2)]
    return segments


def write_segment(segment: Segment, path: Path, fps: int, size: tuple[int, int]) -> None:
    """The segment as a lossless mp4 of exactly ``SEGMENT_SECONDS * fps`` frames at ``size``."""
    from inrzoo.data.samples import resolve_video_path

    height, width = size
    frames = SEGMENT_SECONDS * fps
    if segment.lavfi:
        source = ["-f", "lavfi", "-i", f"{segment.source},trim=start={segment.start}"]
        scale = f"scale={width}:{height},setsar=1"
    else:
        source = ["-ss", f"{segment.start}", "-i", str(resolve_video_path(segment.source)), "-an"]
        scale = f"fps={fps},scale={width}:{height},setsar=1"
    command = ["ffmpeg", "-v", "error", "-y", *source, "-vf", scale, "-frames:v", str(frames), "-c:v", "libx264",
               "-qp", "0", "-preset", "ultrafast", "-pix_fmt", "yuv444p", str(path)]  # fmt: skip
    subprocess.run(command, check=True)


@dataclass(frozen=True)
class Degradation:
    """How one query differs from its segment (drawn by :func:`draw_degradation`)."""

    crop_w: float  # kept fraction of the width
    crop_h: float
    crop_x: float  # where the crop starts, as a fraction of the free room
    crop_y: float
    hue: float  # degrees
    saturation: float
    brightness: float
    contrast: float
    kbps: int

    def filter(self, size: tuple[int, int]) -> str:
        """The ffmpeg video filter that applies it and scales back to ``size``."""
        height, width = size
        crop = (f"crop=iw*{self.crop_w:.3f}:ih*{self.crop_h:.3f}:(iw-ow)*{self.crop_x:.3f}:"
                f"(ih-oh)*{self.crop_y:.3f}")  # fmt: skip
        colour = (f"hue=h={self.hue:.1f}:s={self.saturation:.2f},"
                  f"eq=brightness={self.brightness:.3f}:contrast={self.contrast:.2f}")  # fmt: skip
        return f"{crop},scale={width}:{height},setsar=1,{colour}"


def draw_degradation(seed: int, strength: float, kbps: int) -> Degradation:
    """A query's degradation from its own seed; ``strength`` 0..1 scales every change (0: a re-encode only)."""
    rng = random.Random(seed)
    return Degradation(
        crop_w=1 - strength * rng.uniform(0.2, 0.45), crop_h=1 - strength * rng.uniform(0.2, 0.45),
        crop_x=rng.random(), crop_y=rng.random(), hue=strength * rng.choice((-1, 1)) * rng.uniform(20, 60),
        saturation=1 + strength * rng.uniform(-0.5, 0.5), brightness=strength * rng.uniform(-0.12, 0.12),
        contrast=1 + strength * rng.uniform(-0.3, 0.3), kbps=kbps,
    )  # fmt: skip


def write_query(segment_file: Path, degradation: Degradation, path: Path, fps: int, size: tuple[int, int]) -> None:
    """The degraded copy of a segment, re-encoded by x264 at ``degradation.kbps`` (one pass, CBR-like)."""
    rate = f"{degradation.kbps}k"
    command = ["ffmpeg", "-v", "error", "-y", "-i", str(segment_file), "-an", "-vf", degradation.filter(size),
               "-c:v", "libx264", "-b:v", rate, "-maxrate", rate, "-bufsize", rate, "-preset", "medium",
               "-pix_fmt", "yuv420p", "-r", str(fps), str(path)]  # fmt: skip
    subprocess.run(command, check=True)


# -- the pack worker -----------------------------------------------------------------------------------------
def tiny_clip_teacher(work: Path, seed: int) -> Any:
    """The tiny random CLIP, registered with open_clip in this process, its weights saved once to a file so
    every process (the pack workers, the query side) holds the same teacher."""
    import open_clip
    import torch

    from inrzoo.teachers import OpenClipTeacher
    from inrzoo.testing.teachers import register_tiny_open_clip

    register_tiny_open_clip(work / "clip_config", TINY_CLIP)
    weights = work / "tiny_clip.pt"
    if not weights.exists():
        torch.manual_seed(seed)
        torch.save(open_clip.create_model(TINY_CLIP).state_dict(), weights)
    return OpenClipTeacher(TINY_CLIP, pretrained=str(weights))


def run_worker(spec_file: Path) -> int:
    """Fit this worker's packs, one after another (one thread: the benchmark runs one worker per core)."""
    from inrzoo.cli import fit_pack

    spec = json.loads(spec_file.read_text())
    tiny_clip_teacher(Path(spec["work"]), spec["seed"])
    status = 0
    for pack in spec["packs"]:
        status = max(status, fit_pack.main([json.dumps({**spec["pack"], "members": pack})]))
    return status


def variant_folder(args: argparse.Namespace) -> str:
    """The fits folder of one variant: every setting that changes a fit is in its name."""
    name = f"fits_e{args.epochs}_w{args.weight}_p{args.pack}{'_plain' if args.plain_cosine else ''}"
    if args.head != "linear":
        name += f"_{args.head}"
    if args.lr is not None:
        name += f"_lr{args.lr}"
    return name + (f"_first{args.limit}" if args.limit is not None else "")


def fit_corpus(files: dict[str, Path], work: Path, args: argparse.Namespace) -> tuple[float | None, Path]:
    """Fit part ``args.part`` of the segments, ``args.pack`` per pack, packs shared out over ``args.workers``
    processes, every video from scratch; the seconds of every part once all are fitted (else None), and the
    folder. Parts let a corpus too long for one hold of the shared machine's CPU lock be fitted in several."""
    weights = work / "tiny_clip.pt"
    extra = [
        "--data.init_args.resize=null", "--trainer.max_time=null", f"--trainer.max_epochs={args.epochs}",
        "--trainer.check_val_every_n_epoch=1000", "--report.write_video=false",
        "--model.init_args.alignment.teacher=OpenClipTeacher",
        f"--model.init_args.alignment.teacher.init_args.model_name={TINY_CLIP}",
        f"--model.init_args.alignment.teacher.init_args.pretrained={weights}",
        f"--model.init_args.alignment.weight={args.weight}",
        f"--model.init_args.alignment.cache_dir={work / 'features'}",
        f"--model.init_args.alignment.standardize={str(not args.plain_cosine).lower()}",
        f"--model.init_args.alignment.head={args.head}",
    ]  # fmt: skip
    if args.lr is not None:
        extra.append(f"--model.init_args.learning_rate={args.lr}")
    members = [{"name": name, "video": str(path)} for name, path in files.items()]
    packs = [members[k : k + args.pack] for k in range(0, len(members), args.pack)]
    part, parts = map(int, args.part.split("/"))
    packs = packs[part::parts]
    fits = work / variant_folder(args)
    if any((fits / m["name"]).exists() for pack in packs for m in pack):
        raise SystemExit(f"part {args.part} of {fits} was fitted before: remove the folder to fit again")
    pack_spec = {"config": str(REPO / "configs" / "quickstart.yaml"), "out": str(fits), "extra": extra}
    env = dict(os.environ) | {"OMP_NUM_THREADS": "1"}
    processes = []
    start = time.perf_counter()
    for w in range(args.workers):
        spec = {"work": str(work), "seed": args.seed, "pack": pack_spec, "packs": packs[w :: args.workers]}
        spec_file = work / f"worker{w}_part{part}.json"
        spec_file.write_text(json.dumps(spec))
        log = (work / f"worker{w}_part{part}.log").open("w")
        processes.append(subprocess.Popen([sys.executable, __file__, "--worker", str(spec_file)], env=env,
                                          stdout=log, stderr=subprocess.STDOUT))  # fmt: skip
    codes = [p.wait() for p in processes]
    seconds = time.perf_counter() - start
    if any(code not in (0, 1) for code in codes):
        raise RuntimeError(f"a pack worker failed ({codes}); see {work}/worker*.log")
    videos = sum(len(pack) for pack in packs)
    (fits / f"part_{part}_of_{parts}.json").write_text(json.dumps({"seconds": seconds, "videos": videos}))
    done = [fits / f"part_{k}_of_{parts}.json" for k in range(parts)]
    if not all(f.is_file() for f in done):
        return None, fits
    return sum(json.loads(f.read_text())["seconds"] for f in done), fits


def fitted_seconds(work: Path, args: argparse.Namespace) -> tuple[float, Path]:
    """The seconds and folder of a variant whose every part was fitted before (``--evaluate-only``)."""
    fits = work / variant_folder(args)
    parts = int(args.part.split("/")[1])
    done = [fits / f"part_{k}_of_{parts}.json" for k in range(parts)]
    missing = [f.name for f in done if not f.is_file()]
    if missing:
        raise SystemExit(f"{fits} lacks {', '.join(missing)}: fit every part before --evaluate-only")
    return sum(json.loads(f.read_text())["seconds"] for f in done), fits


# -- the benchmark -------------------------------------------------------------------------------------------
def pooled_teacher_features(teacher: Any, files: list[Path], frames: int) -> Any:
    """(N, D): each file's teacher features, mean-pooled over its frames."""
    import torch

    from inrzoo.baselines.codecs import decode_video
    from inrzoo.retrieval import pool_frames

    pooled = []
    for path in files:
        video, _ = decode_video(path, frames)
        pooled.append(pool_frames(teacher.features_for_video(video, progress=False)))
    return torch.stack(pooled)


def embedding_precision(aligned: Any, teacher: Any, queries: Any) -> dict[str, float]:
    """How close each video's aligned embedding is to its teacher embedding, next to how close the teacher's
    items are to each other and to their queries (cosines): the margin the aligned embeddings must keep."""
    import torch.nn.functional as F

    aligned, teacher, queries = (F.normalize(x.float(), dim=-1) for x in (aligned, teacher, queries))
    own = (aligned * teacher).sum(dim=-1)
    others = teacher @ teacher.T
    others.fill_diagonal_(-1.0)
    return {
        "aligned_vs_teacher_median": float(own.median()), "aligned_vs_teacher_min": float(own.min()),
        "teacher_nearest_other_median": float(others.max(dim=1).values.median()),
        "query_vs_teacher_median": float((queries * teacher).sum(dim=-1).median()),
    }  # fmt: skip


def head_parts(args: argparse.Namespace, run_dirs: list[str], queries: Any, targets: Any) -> dict[str, Any] | None:
    """What carries a plain-cosine linear head's video embedding: the retrieval of its bias alone (the same
    vector for every frame: if that retrieved well, the head, not the latents, would hold the video) and of
    its weight applied to the latents alone. None for other heads and for standardised targets."""
    if args.head != "linear" or not args.plain_cosine:
        return None
    import torch

    from inrzoo.retrieval import pool_frames, retrieval_metrics
    from inrzoo.runs import FittedRun

    bias, weight_only, norms = [], [], []
    for run_dir in run_dirs:
        model = FittedRun.open(run_dir).model
        linear = model.alignment_objective.head.net
        with torch.no_grad():
            projected = model.latents.weight @ linear.weight.T
            bias.append(torch.nn.functional.normalize(linear.bias, dim=0))
            weight_only.append(pool_frames(projected))
            norms.append((float(linear.bias.norm()), float(projected.norm(dim=-1).mean())))
    search = queries @ torch.stack(bias).T, queries @ torch.stack(weight_only).T
    return {
        "bias_only": retrieval_metrics(search[0], targets),
        "weight_times_latents_only": retrieval_metrics(search[1], targets),
        "bias_norm_median": sorted(n[0] for n in norms)[len(norms) // 2],
        "weight_times_latents_norm_median": sorted(n[1] for n in norms)[len(norms) // 2],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "retrieval_corpus_cpu.json")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--fps", type=int, default=12, help="frames a second of every segment")
    parser.add_argument("--size", default="64x112", help="HxW of every segment")
    parser.add_argument("--limit", type=int, default=None, help="only the first N segments (a trial run)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--pack", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--part", default="0/1", help="I/N: fit only every N-th pack from the I-th (one lock hold)")
    parser.add_argument("--weight", type=float, default=0.1, help="alignment loss weight")
    parser.add_argument("--head", choices=("linear", "mlp"), default="linear", help="alignment head")
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default: the quickstart's)")
    parser.add_argument("--strength", type=float, default=0.1, help="how far queries are degraded (0..1)")
    parser.add_argument("--query-kbps", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--plain-cosine",
        action="store_true",
        help="alignment.standardize=false (the paper's plain cosine: no stored teacher mean)",
    )
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="write segments and queries into --work and print the teacher's own retrieval",
    )
    parser.add_argument(
        "--evaluate-only",
        action="store_true",
        help="evaluate fits made before (every part of the variant, same --part N) without fitting",
    )
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        return run_worker(args.worker)

    import logging
    import warnings

    import torch

    from inrzoo.bench.environment import provenance
    from inrzoo.io.files import claim_output
    from inrzoo.retrieval import retrieval_metrics
    from inrzoo.retrieval.evaluate import evaluate_video_to_video
    from inrzoo.runs import build_index

    out = claim_output(args.out, args.overwrite)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    size = tuple(map(int, args.size.split("x")))
    frames = SEGMENT_SECONDS * args.fps
    work = args.work or Path(tempfile.mkdtemp(prefix="inrzoo-retrieval-corpus-"))
    queries_dir = work / f"queries_s{args.strength}_k{args.query_kbps}_seed{args.seed}"
    (work / "segments").mkdir(parents=True, exist_ok=True)
    queries_dir.mkdir(exist_ok=True)
    torch.set_num_threads(1)
    run_start = time.perf_counter()

    segments = plan_segments(args.fps, size)[: args.limit]
    files: dict[str, Path] = {}
    degradations: dict[str, Degradation] = {}
    for i, segment in enumerate(segments):
        files[segment.name] = work / "segments" / f"{segment.name}.mp4"
        degradations[segment.name] = draw_degradation(args.seed * 100_003 + i, args.strength, args.query_kbps)
        if not files[segment.name].is_file():  # --work keeps them between runs (they are not timed)
            write_segment(segment, files[segment.name], args.fps, size)
        if not (queries_dir / f"{segment.name}.mp4").is_file():
            write_query(files[segment.name], degradations[segment.name], queries_dir / f"{segment.name}.mp4",
                        args.fps, size)  # fmt: skip
    print(f"{len(files)} segments and queries ready in {time.perf_counter() - run_start:.0f} s", flush=True)
    teacher = tiny_clip_teacher(work, args.seed)
    if args.prepare_only:  # the teacher's own retrieval only: how hard the queries are, before any fit
        corpus = pooled_teacher_features(teacher, list(files.values()), frames)
        queries = pooled_teacher_features(teacher, [queries_dir / f"{n}.mp4" for n in files], frames)
        similarity = queries @ torch.nn.functional.normalize(corpus, dim=-1).T
        print(json.dumps({"strength": args.strength, "kbps": args.query_kbps,
                          "teacher": retrieval_metrics(similarity, torch.arange(len(files)))}))  # fmt: skip
        return 0
    run_start = time.perf_counter()

    fit_seconds, fits = fitted_seconds(work, args) if args.evaluate_only else fit_corpus(files, work, args)
    if fit_seconds is None:
        print(f"part {args.part} fitted; run the other parts with the same --work to finish", flush=True)
        return 0
    outcomes = {name: json.loads((fits / name / "done.json").read_text())
                for name in files if (fits / name / "done.json").is_file()}  # fmt: skip
    print(f"fitted {len(outcomes)}/{len(files)} in {fit_seconds:.0f} s", flush=True)
    names = [n for n in files if n in outcomes]

    start = time.perf_counter()
    corpus_teacher = pooled_teacher_features(teacher, [files[n] for n in names], frames)
    teacher_index_seconds = time.perf_counter() - start
    start = time.perf_counter()
    index = build_index([outcomes[n]["run_dir"] for n in names])
    latent_index_seconds = time.perf_counter() - start
    if index.names != names:
        raise RuntimeError(f"the index names its videos {index.names[:3]}..., the corpus {names[:3]}...")

    start = time.perf_counter()
    queries = pooled_teacher_features(teacher, [queries_dir / f"{n}.mp4" for n in names], frames)
    query_encode_seconds = time.perf_counter() - start
    targets = torch.arange(len(names))
    start = time.perf_counter()
    teacher_metrics = retrieval_metrics(queries @ torch.nn.functional.normalize(corpus_teacher, dim=-1).T, targets)
    teacher_search_seconds = time.perf_counter() - start
    start = time.perf_counter()
    aligned_metrics = evaluate_video_to_video(index, queries, names)
    latent_search_seconds = time.perf_counter() - start

    ratio = {k: aligned_metrics[k] / max(teacher_metrics[k], 1e-9) for k in ("R@1", "R@5", "R@10")}
    precision = embedding_precision(index.embeddings, corpus_teacher, queries)
    start = time.perf_counter()
    parts = head_parts(args, [outcomes[n]["run_dir"] for n in names], queries, targets)
    print(f"head parts in {time.perf_counter() - start:.0f} s", flush=True)
    psnrs = [outcomes[n]["psnr"] for n in names]
    report = {
        "name": "retrieval_corpus", "tier": "cpu",
        "teacher": "tiny random CLIP (inrzoo.testing.teachers: embed 32, 32x32 input, random weights; "
                   "no real weights can be fetched here)",
        "segments": len(names), "segment_seconds": SEGMENT_SECONDS, "fps": args.fps, "frames": frames,
        "size": list(size), "sources": {"samples": sum(not s.lavfi for s in segments),
                                        "synthetic": sum(s.lavfi for s in segments)},
        "model": f"configs/quickstart.yaml + alignment ({args.head} head, "
                 + ("plain cosine)" if args.plain_cosine else "standardised cosine, teacher mean stored)"),
        "variant": variant_folder(args), "learning_rate": args.lr or "quickstart's",
        "epochs": args.epochs, "alignment_weight": args.weight, "pack": args.pack, "workers": args.workers,
        "threads_per_worker": 1,
        "queries": {"what": "random crop + hue/saturation/brightness/contrast change + x264 re-encode, "
                            "pooled teacher features (video-to-video)",
                    "strength": args.strength, "kbps": args.query_kbps},
        "teacher_retrieval": teacher_metrics, "aligned_retrieval": aligned_metrics,
        "ratio_aligned_over_teacher": ratio, "precision": precision, "head_parts": parts,
        "goal_r1_ratio": 0.95, "goal_met": ratio["R@1"] >= 0.95,
        "fit_seconds": fit_seconds, "fit_parts": int(args.part.split("/")[1]),
        "fit_videos_per_hour": 3600 * len(names) / fit_seconds,
        "mean_psnr": sum(psnrs) / len(psnrs), "min_psnr": min(psnrs),
        "index_build_seconds": {"teacher_encode_corpus": teacher_index_seconds,
                                "latents_build_index": latent_index_seconds},
        "query_seconds": {"teacher_encode_queries": query_encode_seconds, "search_teacher": teacher_search_seconds,
                          "search_latents": latent_search_seconds, "queries": len(names)},
        "degradations": {n: asdict(degradations[n]) for n in names},
        "videos": {n: {"psnr": outcomes[n]["psnr"], "seconds": outcomes[n]["seconds"]} for n in names},
        **provenance(), "seed": args.seed, "run_seconds": time.perf_counter() - run_start,
    }  # fmt: skip
    out.write_text(json.dumps(report, indent=2) + "\n")
    summary = ("teacher_retrieval", "aligned_retrieval", "ratio_aligned_over_teacher", "precision", "mean_psnr",
               "index_build_seconds", "query_seconds", "fit_seconds")  # fmt: skip
    print(json.dumps({k: report[k] for k in summary}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
