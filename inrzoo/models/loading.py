"""Load a fitted model from a checkpoint or a run folder, without the config or the source video."""

from __future__ import annotations

from pathlib import Path

from inrzoo.errors import InrzooError
from inrzoo.models.video_inr import VideoINR


def find_checkpoint(path: str | Path) -> Path:
    """A ``.ckpt`` file as given, or a run folder's ``checkpoints/last.ckpt``."""
    path = Path(path).expanduser()
    if path.is_dir():
        for candidate in (path / "checkpoints" / "last.ckpt", path / "last.ckpt"):
            if candidate.is_file():
                return candidate
        raise InrzooError(f"run folder {path} has no checkpoints/last.ckpt; give a .ckpt file or a finished run")
    if not path.is_file():
        raise InrzooError(f"checkpoint {path} does not exist; give a .ckpt file or a run folder")
    return path


def load_video_inr(path: str | Path, map_location: str = "cpu") -> VideoINR:
    """The model of a run made with ``inrzoo fit`` (its config travels inside the checkpoint).

    Loaded with ``weights_only=True``: a checkpoint can never run code on load.
    """
    checkpoint = find_checkpoint(path)
    try:
        model = VideoINR.load_from_checkpoint(checkpoint, map_location=map_location, weights_only=True)
    except InrzooError:
        raise
    except Exception as err:
        cause = err.__cause__ or err.__context__
        if isinstance(cause, InrzooError):
            raise cause from err
        raise InrzooError(
            f"cannot load {checkpoint} as an inrzoo model ({type(err).__name__}: {str(err).splitlines()[0][:200]}); "
            "give a checkpoint written by `inrzoo fit`"
        ) from err
    return model.eval()
