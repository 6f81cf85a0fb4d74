"""``inrzoo fit|validate|test|predict``: LightningCLI in subclass mode, with inrzoo's parse errors and checks."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from inrzoo import __version__
from inrzoo.errors import InrzooError


def _build_cli_class():  # noqa: ANN202 - Lightning's CLI is imported lazily (it is slow)
    from jsonargparse import ActionYesNo
    from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

    from inrzoo.callbacks import DivergenceGuard, FitReport, VideoPredictionWriter
    from inrzoo.cli.parsing import condense_parser_error

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

        def before_instantiate_classes(self) -> None:
            """Refuse an option out of its range by its whole config key, before anything is built."""
            from inrzoo.cli.config_ranges import check_config_ranges

            config = self.config[self.subcommand] if self.subcommand else self.config
            groups = {"divergence": DivergenceGuard, "report": FitReport, "predict_writer": VideoPredictionWriter}
            check_config_ranges(config.as_dict(), groups)

        def after_instantiate_classes(self) -> None:
            """Refuse a run folder that already holds a run, before the logger writes anything."""
            from lightning.pytorch.callbacks import ModelCheckpoint
            from lightning.pytorch.utilities import rank_zero_only

            if self.subcommand is None:
                return
            if self.trainer.fast_dev_run:
                # A smoke run writes no files, but ModelCheckpoint(save_last=True) still saves at train end
                # under fast_dev_run (its on_train_end skips the check the other hooks make).
                self.trainer.callbacks = [c for c in self.trainer.callbacks if not isinstance(c, ModelCheckpoint)]
                return
            # Under DDP the other ranks start while rank 0 writes the run folder: only rank 0 checks.
            if self.subcommand == "fit" and self.config["fit"].get("resume"):
                self._resume_from_newest_checkpoint()
            if rank_zero_only.rank != 0:
                return
            self._claim_run_folder()

        def _claim_run_folder(self) -> None:
            """Take a fresh version (or refuse a taken folder) atomically: another fit may be starting now."""
            from inrzoo.runs.folder import claim_run_folder, next_free_version

            logger = self.trainer.logger
            root = getattr(logger, "root_dir", None)
            if logger is not None and getattr(logger, "_version", 0) is None and root and "://" not in str(root):
                logger._version = next_free_version(root)  # what the logger would list its way to, but atomic
            run_dir = self.trainer.log_dir
            if not run_dir or "://" in str(run_dir):
                return  # a remote logger: its store keeps the versions
            fix = (
                "leave trainer.logger's version unset for a new folder, or pick another name/version"
                if logger is not None
                else "set --trainer.default_root_dir to a new folder"
            )
            claim_run_folder(run_dir, fix)

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


def _usage_epilog() -> str:
    from inrzoo.cli.table import COMMANDS

    own = [info for info in COMMANDS.entries() if not info.target.lightning]
    return (
        "inrzoo also has: "
        + "; ".join(f"`inrzoo {info.name}`: {info.target.help}" for info in own)
        + ". Keys of each class: `inrzoo fit --model.help VideoINR`, `inrzoo fit --data.help VideoDataModule`, "
        "`inrzoo fit --model.init_args.backbone.help NeRVBackbone` (any backbone/hypernet class)."
    )


def main(argv: Sequence[str], from_sys_argv: bool = False) -> int:
    """LightningCLI on the whole command line, its subcommand included (``from_sys_argv``: ``argv`` is
    ``sys.argv[1:]``, which LightningCLI then reads itself, as it asks)."""
    from inrzoo.data import VideoDataModule
    from inrzoo.models import VideoINR

    cli_class = _build_cli_class()
    cli_class._inrzoo_argv = list(argv)
    cli_class(
        VideoINR,
        VideoDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        seed_everything_default=0,
        args=None if from_sys_argv else list(argv),
        parser_kwargs={"epilog": _usage_epilog()},
    )
    return 0
