"""The ``inrzoo`` command: LightningCLI subcommands plus inrzoo's own.

``main(args=None)`` runs in-process so tests call it directly.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from inrzoo import __version__
from inrzoo.errors import InrzooError

INRZOO_COMMANDS = {
    "plugins": "list registered plugins and any that failed to load",
    "bench": "benchmark backbone x hypernetwork-head combinations against x264/x265 (`inrzoo bench --help`)",
    "index": "build a retrieval index from aligned fits (`inrzoo index --help`)",
    "retrieve": "query a retrieval index by text or video, or evaluate it (`inrzoo retrieve --help`)",
    "compress": "write a fitted run as one .inrz file (`inrzoo compress --help`)",
    "decompress": "decode a .inrz file to mp4 or PNG frames (`inrzoo decompress --help`)",
    "interpolate": "write the video at a multiple of its frame rate (`inrzoo interpolate --help`)",
    "upscale": "write the video at a higher resolution (`inrzoo upscale --help`)",
    "eval-interpolation": "score held-out frames against neighbour averaging and minterpolate",
    "eval-sr": "score super-resolution against real frames, bicubic and lanczos",
    "fit-many": "fit every video of a manifest, resumable (`inrzoo fit-many --help`)",
}


def _build_cli_class():  # noqa: ANN202 - Lightning's CLI is imported lazily (it is slow)
    from jsonargparse import ActionYesNo
    from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

    from inrzoo.callbacks import DivergenceGuard, FitReport, VideoPredictionWriter
    from inrzoo.cli_errors import condense_parser_error

    class InrzooArgumentParser(LightningArgumentParser):
        """Parse errors as one line and exit code 2, instead of jsonargparse's nested report."""

        argv: Sequence[str] = ()

        def error(self, message: str, ex: Exception | None = None):  # noqa: ANN201 - NoReturn
            if os.environ.get("INRZOO_DEBUG"):
                print(message, file=sys.stderr)
            print(f"inrzoo: error: {condense_parser_error(message, self.argv)}", file=sys.stderr)
            raise SystemExit(2)

    class InrzooCLI(LightningCLI):
        """LightningCLI in subclass mode, with the data's geometry linked into the model."""

        def init_parser(self, **kwargs):  # noqa: ANN201, ANN003
            kwargs.setdefault("dump_header", [f"inrzoo {__version__}"])
            self.parser_class = InrzooArgumentParser
            InrzooArgumentParser.argv = self._inrzoo_argv
            return super().init_parser(**kwargs)

        def after_instantiate_classes(self) -> None:
            """Refuse a run folder that already holds a run, before the logger writes anything."""
            from lightning.pytorch.utilities import rank_zero_only

            # Under DDP the other ranks start while rank 0 writes the run folder: only rank 0 checks.
            if self.subcommand is None or self.trainer.fast_dev_run:
                return
            if self.subcommand == "fit" and self.config["fit"].get("resume"):
                self._resume_from_newest_checkpoint()
            if rank_zero_only.rank != 0:
                return
            run_dir = self.trainer.log_dir
            if run_dir and (Path(run_dir) / "config.yaml").exists():
                fix = (
                    "leave trainer.logger's version unset for a new folder, or pick another name/version"
                    if self.trainer.logger is not None
                    else "set --trainer.default_root_dir to a new folder"
                )
                raise InrzooError(
                    f"run folder {run_dir} already holds a run (config.yaml); nothing was overwritten: {fix}"
                )

        def _resume_from_newest_checkpoint(self) -> None:
            """``--resume``: continue from the newest readable last.ckpt of this config's earlier runs."""
            from inrzoo.fleet.fit_many import latest_checkpoint

            if self.config_init["fit"].get("ckpt_path"):
                raise InrzooError("give --resume or --ckpt_path, not both")
            logger = self.trainer.logger
            root = Path(logger.root_dir) if logger is not None else Path(self.trainer.default_root_dir)
            checkpoint = latest_checkpoint(root) or (
                root / "checkpoints" / "last.ckpt" if (root / "checkpoints" / "last.ckpt").is_file() else None
            )
            if checkpoint is None:
                print(f"inrzoo: --resume found no checkpoint under {root}; starting a new fit", file=sys.stderr)
                return
            print(f"inrzoo: resuming from {checkpoint}", file=sys.stderr)
            self.config_init["fit"]["ckpt_path"] = str(checkpoint)

        def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
            parser.link_arguments("data.num_frames", "model.init_args.num_frames", apply_on="instantiate")
            parser.link_arguments("data.frame_size", "model.init_args.frame_size", apply_on="instantiate")
            parser.link_arguments("data.video_name", "model.init_args.video_name", apply_on="instantiate")
            parser.add_lightning_class_args(FitReport, "report")
            parser.add_lightning_class_args(DivergenceGuard, "divergence")
            parser.add_argument(
                "--resume", action=ActionYesNo, default=False,
                help="fit: continue from the newest last.ckpt of this config's runs (after a crash or a kill)",
            )  # fmt: skip
            parser.add_lightning_class_args(VideoPredictionWriter, "predict_writer")

    return InrzooCLI


def print_plugins() -> None:
    from inrzoo.registry import all_registries

    registries = all_registries()
    for kind, registry in registries.items():
        entries = registry.entries()
        print(f"{kind}s ({registry.group}):")
        if not entries:
            print("  (none registered)")
        for info in entries:
            print(f"  {info.name:<16} {info.qualname:<55} {info.package} {info.version}")
    failures = [f for registry in registries.values() for f in registry.failures]
    if failures:
        print("failed to load:")
        for failure in failures:
            print(f"  {failure.kind} {failure.entry_point} from {failure.package}: {failure.error}")


def _usage_epilog() -> str:
    return (
        "inrzoo also has: "
        + "; ".join(f"`inrzoo {k}`: {v}" for k, v in INRZOO_COMMANDS.items())
        + ". Keys of each class: `inrzoo fit --model.help VideoINR`, `inrzoo fit --data.help VideoDataModule`, "
        "`inrzoo fit --model.init_args.backbone.help NeRVBackbone` (any backbone/hypernet class)."
    )


def main(args: Sequence[str] | None = None) -> int:
    """Entry point of the ``inrzoo`` console script; returns (or exits with) the status."""
    argv = list(sys.argv[1:] if args is None else args)
    try:
        from inrzoo.registry import discover_all

        with warnings.catch_warnings():
            warnings.simplefilter("always")
            discover_all()
        if argv[:1] == ["plugins"]:
            print_plugins()
            return 0
        if argv[:1] == ["bench"]:
            from inrzoo.bench.command import bench_main

            return bench_main(argv[1:])
        if argv[:1] in (["compress"], ["decompress"]):
            from inrzoo.compression.command import compress_main, decompress_main

            return (compress_main if argv[0] == "compress" else decompress_main)(argv[1:])
        if argv[:1] and argv[0] in {"interpolate", "upscale", "eval-interpolation", "eval-sr"}:
            from inrzoo.tasks import command as task_commands

            entry = {
                "interpolate": task_commands.interpolate_main,
                "upscale": task_commands.upscale_main,
                "eval-interpolation": task_commands.eval_interpolation_main,
                "eval-sr": task_commands.eval_sr_main,
            }[argv[0]]
            return entry(argv[1:])
        if argv[:1] == ["fit-many"]:
            from inrzoo.fleet.command import fit_many_main

            return fit_many_main(argv[1:])
        if argv[:1] in (["index"], ["retrieve"]):
            from inrzoo.retrieval.command import index_main, retrieve_main

            return (index_main if argv[0] == "index" else retrieve_main)(argv[1:])
        from inrzoo.data import VideoDataModule
        from inrzoo.models import VideoINR

        cli_class = _build_cli_class()
        cli_class._inrzoo_argv = argv
        cli_class(
            VideoINR,
            VideoDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            seed_everything_default=0,
            args=None if args is None else argv,
            parser_kwargs={"epilog": _usage_epilog()},
        )
    except Exception as err:
        user_error = find_user_error(err)
        if user_error is None:
            raise
        print(f"inrzoo: error: {user_error}", file=sys.stderr)
        raise SystemExit(2) from None
    return 0


def find_user_error(err: BaseException) -> InrzooError | None:
    """Our user-facing error, also when jsonargparse or Lightning wrapped it on the way up.

    Lightning's own MisconfigurationException (an invalid combination of trainer settings)
    is a config problem too, so it is reported the same way.
    """
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, InrzooError):
            return current
        if isinstance(current, MisconfigurationException):
            return InrzooError(f"{str(current).splitlines()[0]} (check the trainer settings in your config)")
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


if __name__ == "__main__":
    sys.exit(main())
