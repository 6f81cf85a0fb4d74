"""Turning failures to get pretrained weights into errors that say what to do."""

from __future__ import annotations

from pathlib import Path

from inrzoo.errors import InrzooError

_NETWORK_HINTS = (
    "offline", "connection", "resolve", "network", "timed out", "timeout", "hub", "urlopen", "max retries",
    "localentrynotfound", "cannot find the requested files", "couldn't connect", "name or service not known",
)  # fmt: skip


def null_text_to_none(value: str | None) -> str | None:
    """``None`` for "null"/"None"/"": jsonargparse turns a command-line ``null`` into the text "None" for
    an optional string inside an optional dataclass (``model.init_args.alignment.teacher.init_args.*``)."""
    return None if value is None or str(value).strip().lower() in {"", "none", "null"} else value


def looks_like_a_local_file(value: str | None) -> bool:
    return bool(value) and (Path(str(value)).expanduser().exists() or any(s in str(value) for s in ("/", "\\")))


def is_network_failure(err: BaseException) -> bool:
    text = f"{type(err).__name__} {err}".lower()
    return any(hint in text for hint in _NETWORK_HINTS)


def weights_unavailable(what: str, err: BaseException, local_option: str) -> InrzooError:
    """The one-line error for pretrained weights that need a download nobody can make here."""
    return InrzooError(
        f"pretrained weights for {what} need a download and none was possible ({type(err).__name__}); "
        f"on a machine with a network they are downloaded once into the hub cache; offline, download the "
        f"weights file elsewhere and pass its path as {local_option}"
    )


def require_file(path: str | Path, option: str) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise InrzooError(f"{option} {path} does not exist; give the path of a weights file")
    return path
