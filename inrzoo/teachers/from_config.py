"""Rebuild a teacher from the config saved with a model (for text queries against an index)."""

from __future__ import annotations

from typing import Any

from inrzoo.errors import InrzooError
from inrzoo.stored_config import check_stored_config
from inrzoo.teachers.base import Teacher


def teacher_from_config(config: dict[str, Any] | None, source: str = "the index") -> Teacher:
    """``{"class_path": ..., "init_args": {...}}`` -> a Teacher, through jsonargparse (as the CLI does).

    The config is stored data: it may name only a registered teacher (checked before any import).
    """
    if not config:
        raise InrzooError("this index stores no teacher config, so text cannot be embedded; query with --video")
    check_stored_config(config, Teacher, source, "teacher")
    from jsonargparse import ArgumentParser

    parser = ArgumentParser(exit_on_error=False)
    parser.add_argument("--teacher", type=Teacher)
    try:
        parsed = parser.parse_object({"teacher": config})
        return parser.instantiate_classes(parsed).teacher
    except Exception as err:
        raise InrzooError(
            f"cannot rebuild teacher {config.get('class_path')!r} ({type(err).__name__}: {str(err).splitlines()[0]}); "
            "install the package that provides it"
        ) from err
