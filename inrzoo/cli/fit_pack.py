"""The process that fits one pack of ``fit-many --pack K`` (started by fit-many; not a user command).

``python -m inrzoo.cli.fit_pack SPEC_JSON``: each member's model, data and trainer are built from the config
exactly as ``inrzoo fit`` builds them (LightningCLI, the config's seed), so a packed fit starts from the same
weights as a separate one; :func:`inrzoo.fleet.packing.fit_pack` trains them together. Exit status: 0 all
done, 1 some failed (diverged), 2 a user error (one line: an unsupported feature, mixed geometries).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import lightning.pytorch as pl

    from inrzoo.fleet.packing import PackMember


def build_member(config: str, out: Path, name: str, video: str, extra: list[str]) -> tuple[PackMember, pl.Trainer]:
    """The model, data module and trainer of ``inrzoo fit --config config`` for ``video`` (its run folder is
    claimed later, by :func:`claim_run_folders`, once the whole pack has been checked)."""
    from inrzoo.cli.lightning import _build_cli_class
    from inrzoo.data import VideoDataModule
    from inrzoo.fleet.fit_many import latest_checkpoint
    from inrzoo.fleet.packing import PackMember
    from inrzoo.models import VideoINR

    args = [
        "--config", config, f"--data.init_args.path={video}",
        "--trainer.logger=lightning.pytorch.loggers.TensorBoardLogger",
        f"--trainer.logger.init_args.save_dir={out / name}", "--trainer.logger.init_args.name=",
        "--trainer.enable_progress_bar=false", *extra,
    ]  # fmt: skip
    cli_class = _build_cli_class()
    cli_class._inrzoo_argv = args
    cli = cli_class(
        VideoINR, VideoDataModule, subclass_mode_model=True, subclass_mode_data=True,
        seed_everything_default=0, run=False, args=args,
    )  # fmt: skip
    member = PackMember(name, video, cli.model, cli.datamodule, out / name, latest_checkpoint(out / name))
    member.config_text = cli.parser.dump(cli.config, skip_none=False)
    return member, cli.trainer


def claim_run_folders(members: list[PackMember]) -> None:
    """Each member's ``OUT/<name>/version_N`` (a fresh N), with the ``config.yaml`` its fit ran."""
    from inrzoo.runs.folder import claim_run_folder, next_free_version

    for member in members:
        video_dir = member.run_dir
        member.run_dir = video_dir / f"version_{next_free_version(video_dir)}"
        claim_run_folder(member.run_dir, "leave OUT/<video>/version_N to fit-many")
        (member.run_dir / "config.yaml").write_text(member.config_text)


def main(argv: Sequence[str]) -> int:
    from inrzoo.fleet.packing import check_pack, fit_pack, plan_from_trainer

    spec = json.loads(argv[0])
    out = Path(spec["out"])
    built = [build_member(spec["config"], out, m["name"], m["video"], spec["extra"]) for m in spec["members"]]
    members = [member for member, _ in built]
    plan = plan_from_trainer(built[0][1])
    check_pack(members, plan)  # before any folder is claimed: a refused pack leaves nothing behind
    claim_run_folders(members)
    print(f"pack of {len(members)}: {', '.join(m.name for m in members)}", flush=True)
    outcomes = fit_pack(members, plan, log=lambda line: print(line, flush=True))
    for o in outcomes:
        print(f"{o.status:>8}  {o.name}: " + (f"PSNR {o.psnr:.2f} dB" if o.psnr is not None else o.error or ""))
    return 1 if any(o.status == "failed" for o in outcomes) else 0


if __name__ == "__main__":
    from inrzoo.cli.app import discover_plugins, find_user_error

    try:
        discover_plugins()
        sys.exit(main(sys.argv[1:]))
    except Exception as err:
        user_error = find_user_error(err)
        if user_error is None:
            raise
        print(f"inrzoo: error: {user_error}", file=sys.stderr)
        sys.exit(2)
