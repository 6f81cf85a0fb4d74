"""What a fit aligns its latents to, and how (a config section of the model)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from inrzoo.options import WEIGHT, WIDTH, check_options, integers, numbers
from inrzoo.stored_config import trust_stored_class
from inrzoo.teachers.base import Teacher


@trust_stored_class
@dataclass
class Alignment:
    """Align each frame's latent with a frozen teacher's feature of that frame.

    Args:
        teacher: the teacher (``class_path`` of a :class:`Teacher`, e.g. ``OpenClipTeacher``).
        weight: weight of the alignment loss next to the reconstruction loss (paper: 0.01 with
            the cosine loss); 0 trains the head as a probe on latents that alignment never moves
            (the alignment-off baseline with the same head).
        loss: ``cosine`` (1 - cos per frame) or ``infonce`` (contrastive across the batch).
        head: ``linear`` or ``mlp`` projection from latent to teacher space.
        hidden: hidden units of the ``mlp`` head.
        temperature: InfoNCE temperature.
        standardize: compare the head's output with the teacher feature minus the video's mean
            teacher feature. Frames of one video have nearly parallel features (cosine ~0.99 for a
            CLIP), so a plain cosine loss is satisfied by the mean alone and barely teaches what
            differs between frames; the mean and spread are stored (2 x D + 1 numbers) and added
            back for retrieval. False: the paper's plain cosine.
        feature_batch_size: frames per teacher forward pass when computing the targets.
        cache_dir: where teacher features are cached (None: ``$INRZOO_CACHE_DIR/teacher-features``).
    """

    teacher: Teacher
    weight: float = 0.01
    loss: Literal["cosine", "infonce"] = "cosine"
    head: Literal["linear", "mlp"] = "linear"
    hidden: int = 256
    temperature: float = 0.07
    standardize: bool = True
    feature_batch_size: int = 32
    cache_dir: str | None = None

    option_ranges = {
        "weight": WEIGHT,
        "hidden": WIDTH,
        "temperature": numbers(0, 100, low_open=True),
        "feature_batch_size": integers(1, 65_536),
    }

    def __post_init__(self) -> None:
        check_options(self, vars(self))
