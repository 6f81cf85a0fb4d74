"""``inrzoo retrieve``: query a retrieval index by text or by a fitted video, or evaluate it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from inrzoo.cli.parsing import one_line_parser
from inrzoo.errors import InrzooError
from inrzoo.io.files import claim_output


def main(argv: Sequence[str]) -> int:
    from inrzoo.retrieval.evaluate import evaluate_text_to_video
    from inrzoo.retrieval.index import RetrievalIndex
    from inrzoo.retrieval.msrvtt import load_msrvtt_queries
    from inrzoo.retrieval.pooling import pool_frames
    from inrzoo.teachers.from_config import teacher_from_config

    parser = one_line_parser(
        "inrzoo retrieve", "Rank the indexed videos for a text or a video query, or evaluate.", argv
    )
    parser.add_argument("--index", required=True, help="a folder written by `inrzoo index`")
    parser.add_argument("--text", default=None, help="a text query (needs an image-text teacher such as open-clip)")
    parser.add_argument("--video", default=None, help="a fitted video (run folder, checkpoint or .inrz) as the query")
    parser.add_argument("--top_k", type=int, default=10, help="how many videos to print")
    parser.add_argument("--pooling", choices=["mean", "attention"], default=None, help="override the index's pooling")
    parser.add_argument(
        "--eval", choices=["msrvtt", "videos"], default=None,
        help="evaluate: text-to-video on MSR-VTT 1k-A (--captions), or video-to-video (--queries)",
    )  # fmt: skip
    parser.add_argument("--captions", default=None, help="with --eval msrvtt: MSRVTT_JSFUSION_test.csv or JSON")
    parser.add_argument("--queries", default=None, help="with --eval videos: a CSV of query (fitted run) and video_id")
    parser.add_argument("--out", default=None, help="with --eval: write the metrics to this JSON file")
    args = parser.parse_args(list(argv))
    modes = [m for m in ("text", "video", "eval") if getattr(args, m) is not None]
    if len(modes) != 1:
        raise InrzooError("give exactly one of --text, --video or --eval")
    if args.top_k < 1:
        raise InrzooError(f"--top_k must be >= 1, got {args.top_k}")
    index = RetrievalIndex.load(args.index, pooling=args.pooling)

    if args.eval is not None:
        needs = {"msrvtt": ("captions", "MSRVTT_JSFUSION_test.csv or a JSON list"), "videos": ("queries", "a CSV")}
        option, what = needs[args.eval]
        if getattr(args, option) is None:
            raise InrzooError(f"--eval {args.eval} needs --{option} FILE ({what})")
        out = claim_output(args.out) if args.out else None  # refuse before the work
        if args.eval == "msrvtt":
            queries = load_msrvtt_queries(args.captions)
            metrics = evaluate_text_to_video(
                index, teacher_from_config(index.teacher, f"retrieval index {args.index}"), queries
            )
        else:
            metrics = _video_to_video(index, args.queries)
        print(" ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()))
        if out is not None:
            benchmark, task = {"msrvtt": ("msrvtt-1k-A", "text-to-video"), "videos": (args.queries, "video-to-video")}[
                args.eval
            ]
            out.write_text(json.dumps({"benchmark": benchmark, "task": task, **metrics}, indent=2) + "\n")
        return 0

    if args.text is not None:
        query = teacher_from_config(index.teacher, f"retrieval index {args.index}").encode_text([args.text])[0].cpu()
    else:
        from inrzoo.runs import FittedRun

        model = FittedRun.open(args.video).model
        if model.alignment is None:
            raise InrzooError(f"{args.video} holds no alignment, so it has no embedding to query with")
        query = pool_frames(model.aligned_embeddings().detach().cpu(), index.pooling)
    for rank, (name, score) in enumerate(index.rank(query, args.top_k), start=1):
        print(f"{rank:>3}  {score:+.4f}  {name}")
    return 0


def _video_to_video(index: object, queries_csv: str) -> dict[str, float]:
    """Each row of the CSV: a fitted video (run folder or checkpoint) and the indexed video it should find."""
    import csv

    import torch

    from inrzoo.retrieval.evaluate import evaluate_video_to_video
    from inrzoo.retrieval.pooling import pool_frames
    from inrzoo.runs import FittedRun

    path = Path(queries_csv)
    if not path.is_file():
        raise InrzooError(f"query file {path} does not exist; give a CSV with columns query,video_id")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"query", "video_id"} <= set(rows[0]):
        raise InrzooError(f"{path} needs the columns query,video_id (a fitted run and the video it should find)")
    embeddings = [
        pool_frames(FittedRun.open(row["query"]).model.aligned_embeddings().detach().cpu(), index.pooling)
        for row in rows
    ]
    return evaluate_video_to_video(index, torch.stack(embeddings), [row["video_id"] for row in rows])
