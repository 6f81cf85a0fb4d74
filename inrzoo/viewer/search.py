"""What the viewer serves for a retrieval index: ranked videos for a text or a video query, and
thumbnails decoded from each video's latents (through the fitted run its index entry names)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.errors import InrzooError
from inrzoo.retrieval import RetrievalIndex
from inrzoo.runs import FittedRun
from inrzoo.runs.decoding import decode_uint8
from inrzoo.teachers.base import Teacher
from inrzoo.viewer.session import Decoded, ViewerInputError, png_bytes

#: Thumbnails are no taller than this (a 720p video's frame would make a heavy result list).
THUMBNAIL_HEIGHT = 96
#: How many results a query may ask for, and how long a text query may be.
MAX_TOP_K, DEFAULT_TOP_K, MAX_TEXT = 100, 8, 300
#: Fitted models kept open for thumbnails (each is a whole model in memory; an index may name thousands).
OPEN_RUNS = 4


def thumbnail(frame: Tensor, height: int = THUMBNAIL_HEIGHT) -> Tensor:
    """uint8 (3, H, W) -> uint8 (3, h, w) with h <= ``height`` and the aspect kept (a frame already small
    enough is returned as decoded, pixel for pixel)."""
    if frame.shape[1] <= height:
        return frame
    width = max(1, round(frame.shape[2] * height / frame.shape[1]))
    small = F.interpolate(frame[None].float(), size=(height, width), mode="bilinear", antialias=True)
    return small[0].round().clamp(0, 255).to(torch.uint8)


@dataclass
class ViewedIndex:
    """A retrieval index the viewer serves. Text encodes and thumbnail decodes hold :attr:`lock`, one at a time.

    ``teacher`` is the index's teacher when it has a text tower (built lazily: no weights are read until
    the first text query), else None and ``text_note`` says why the page shows no text box.
    """

    index: RetrievalIndex
    directory: Path
    teacher: Teacher | None
    text_note: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    _runs: OrderedDict[int, FittedRun] = field(default_factory=OrderedDict)

    @classmethod
    def open(cls, path: str | Path) -> ViewedIndex:
        from inrzoo.teachers.from_config import teacher_from_config

        directory = Path(path)
        index = RetrievalIndex.load(directory)
        try:
            teacher: Teacher | None = teacher_from_config(index.teacher, f"retrieval index {directory}")
            note = None
        except InrzooError as err:  # a video query never needs the teacher: serve the index without text
            teacher, note = None, str(err)
        if teacher is not None and not teacher.has_text_tower:
            teacher, note = None, f"{type(teacher).__name__} has no text tower: search by video ('more like this')"
        return cls(index, directory, teacher, note)

    @property
    def title(self) -> str:
        return f"retrieval index {self.directory} ({len(self.index.entries)} videos)"

    def metadata(self) -> dict[str, Any]:
        teacher = (self.index.teacher or {}).get("class_path", "")
        videos = [
            {"video": i, "name": e.name, "frames": int(e.frame_embeddings.shape[0]),
             "thumbnail": self.thumbnail_url(i, self.middle_frame(i))}
            for i, e in enumerate(self.index.entries)
        ]  # fmt: skip
        return {
            "kind": "index", "name": self.directory.resolve().name, "path": str(self.directory),
            "videos": videos, "text_search": self.teacher is not None, "text_note": self.text_note,
            "teacher": teacher.rsplit(".", 1)[-1], "pooling": self.index.pooling,
            "feature_dim": self.index.feature_dim, "max_top_k": MAX_TOP_K,
        }  # fmt: skip

    # -- checks -----------------------------------------------------------------------------------
    def video(self, video: int) -> int:
        count = len(self.index.entries)
        if not 0 <= video < count:
            raise ViewerInputError(f"video {video} is not in this index: it has videos 0..{count - 1}", 404)
        return video

    @staticmethod
    def top_k(top_k: int) -> int:
        if not 1 <= top_k <= MAX_TOP_K:
            raise ViewerInputError(f"top_k={top_k} must be in 1..{MAX_TOP_K}")
        return top_k

    def middle_frame(self, video: int) -> int:
        return int(self.index.entries[video].frame_embeddings.shape[0]) // 2

    @staticmethod
    def thumbnail_url(video: int, frame: int) -> str:
        return f"/api/thumbnail/{video}.png?frame={frame}"

    # -- queries ----------------------------------------------------------------------------------
    def search_text(self, text: str, top_k: int = DEFAULT_TOP_K) -> dict[str, Any]:
        """The videos ranked for a text query (its embedding by the index's own teacher)."""
        text, top_k = text.strip(), self.top_k(top_k)
        if not text or len(text) > MAX_TEXT:
            raise ViewerInputError(f"text must be 1..{MAX_TEXT} characters, got {len(text)}")
        if self.teacher is None:
            raise ViewerInputError(f"this index has no text search ({self.text_note})", 404)
        try:
            with self.lock, torch.no_grad():
                query = self.teacher.encode_text([text])[0].float().cpu()
        except InrzooError as err:  # e.g. the teacher's weights are not on this machine
            raise ViewerInputError(f"text search is unavailable: {err}", 503) from None
        return {"query": {"text": text}, "results": self._ranked(query, top_k)}

    def similar(self, video: int, top_k: int = DEFAULT_TOP_K) -> dict[str, Any]:
        """The other videos ranked by their likeness to ``video`` ("more like this")."""
        video, top_k = self.video(video), self.top_k(top_k)
        name = self.index.entries[video].name
        results = self._ranked(self.index.embeddings[video], top_k, leave_out=video)
        return {"query": {"video": video, "name": name}, "results": results}

    def _ranked(self, query: Tensor, top_k: int, leave_out: int | None = None) -> list[dict[str, Any]]:
        """Best first; each video with the frame most like the query (its thumbnail shows that frame)."""
        query = F.normalize(query.float(), dim=-1)
        scores = self.index.similarity(query)[0]
        order = [i for i in torch.argsort(scores, descending=True).tolist() if i != leave_out][:top_k]
        results = []
        for rank, i in enumerate(order, start=1):
            frames = F.normalize(self.index.entries[i].frame_embeddings.float(), dim=-1)
            best = int(torch.argmax(frames @ query))
            results.append({"rank": rank, "video": i, "name": self.index.entries[i].name, "score": float(scores[i]),
                            "frame": best, "thumbnail": self.thumbnail_url(i, best)})  # fmt: skip
        return results

    # -- thumbnails -------------------------------------------------------------------------------
    def thumbnail(self, video: int, frame: int | None = None) -> Decoded:
        """Frame ``frame`` of ``video`` (default: its middle one), decoded from its latent, as a thumbnail."""
        video = self.video(video)
        frames = int(self.index.entries[video].frame_embeddings.shape[0])
        frame = self.middle_frame(video) if frame is None else frame
        if not 0 <= frame < frames:
            raise ViewerInputError(f"frame {frame} is out of range: video {video} has frames 0..{frames - 1}", 404)
        with self.lock, torch.no_grad():
            model = self._run(video).model
            if frame >= model.latents.num_frames:
                raise ViewerInputError(f"video {video}'s run has fewer frames than the index: rebuild the index", 409)
            start = time.perf_counter()
            decoded = decode_uint8(model, [frame])[0]
            seconds = time.perf_counter() - start
        return Decoded(png_bytes(thumbnail(decoded)), seconds * 1000)

    def _run(self, video: int) -> FittedRun:
        """The fitted run ``video``'s entry names (call under :attr:`lock`); the last few stay open."""
        if video in self._runs:
            self._runs.move_to_end(video)
            return self._runs[video]
        source = self._source(video)
        try:
            run = FittedRun.open(source)
        except InrzooError as err:
            raise ViewerInputError(f"video {video}'s fitted run cannot be read: {err}", 404) from None
        self._runs[video] = run
        while len(self._runs) > OPEN_RUNS:
            self._runs.popitem(last=False)
        return run

    def _source(self, video: int) -> Path:
        """Where the index says the video's fitted run is: as written (absolute, or relative to where
        ``inrzoo index`` ran, which is usually here), else relative to the index folder's parent."""
        written = Path(self.index.entries[video].source)
        for candidate in (written, self.directory.parent / written):
            if candidate.exists():
                return candidate
        raise ViewerInputError(
            f"video {video}'s fitted run {written} is not here (moved?); rebuild the index where the runs are", 404
        )
