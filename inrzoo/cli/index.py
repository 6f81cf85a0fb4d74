"""``inrzoo index``: a retrieval index from fitted videos (their aligned latents; pixels are never read)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from inrzoo.cli.parsing import one_line_parser
from inrzoo.errors import InrzooError


def main(argv: Sequence[str]) -> int:
    from inrzoo.runs import build_index

    parser = one_line_parser(
        "inrzoo index",
        "Build a retrieval index from fitted videos (their aligned latents only; pixels are never read).",
        argv,
    )
    parser.add_argument(
        "checkpoints", nargs="+",
        help="run folders, checkpoints (.ckpt), .inrz files, or `inrzoo fit-many` output folders of aligned fits",
    )  # fmt: skip
    parser.add_argument("--out", required=True, help="folder for index.json + embeddings.safetensors")
    parser.add_argument("--pooling", choices=["mean", "attention"], default="mean", help="video embedding pooling")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing index in --out")
    args = parser.parse_args(list(argv))
    out = Path(args.out)
    if (out / "index.json").exists() and not args.overwrite:  # refuse before loading anything
        raise InrzooError(f"{out} already holds an index; choose another --out or pass --overwrite")
    index = build_index(args.checkpoints, pooling=args.pooling)
    index.save(out, overwrite=args.overwrite)
    print(f"indexed {len(index.entries)} videos ({index.feature_dim}-dim, {args.pooling} pooling) into {out}")
    return 0
