"""Conformance tests every :class:`~inrzoo.teachers.Teacher` should pass."""

from __future__ import annotations

import pytest
import torch

from inrzoo.errors import InrzooError
from inrzoo.teachers.base import Teacher


class TeacherConformance:
    """Mixin of pytest tests for an alignment teacher; subclass it in a ``Test*`` class.

    Implement :meth:`make_teacher` (keep it tiny and offline: random weights are fine)::

        class TestColorStats(TeacherConformance):
            def make_teacher(self):
                return ColorStatsTeacher(grid=2)
    """

    frame_size: tuple[int, int] = (24, 40)
    num_frames: int = 5

    @pytest.fixture(autouse=True)
    def _seed(self) -> None:
        torch.manual_seed(0)  # random-weight teachers: the same weights on every make_teacher()

    def make_teacher(self) -> Teacher:
        raise NotImplementedError("implement make_teacher() to return a Teacher")

    def frames(self, seed: int = 0) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        return torch.randint(0, 256, (self.num_frames, 3, *self.frame_size), generator=generator, dtype=torch.uint8)

    def test_is_a_teacher_with_a_feature_dim(self) -> None:
        teacher = self.make_teacher()
        assert isinstance(teacher, Teacher)
        assert isinstance(teacher.feature_dim, int) and teacher.feature_dim > 0

    def test_video_features_shape_and_values(self) -> None:
        teacher = self.make_teacher()
        features = teacher.features_for_video(self.frames(), batch_size=2, progress=False)
        assert tuple(features.shape) == (self.num_frames, teacher.feature_dim)
        assert features.dtype == torch.float32 and torch.isfinite(features).all()
        assert not features.requires_grad, "teacher features must come without gradients"

    def test_batching_does_not_change_features(self) -> None:
        teacher = self.make_teacher()
        one = teacher.features_for_video(self.frames(), batch_size=1, progress=False)
        all_at_once = teacher.features_for_video(self.frames(), batch_size=self.num_frames, progress=False)
        torch.testing.assert_close(one, all_at_once, atol=1e-4, rtol=1e-4)

    def test_different_frames_give_different_features(self) -> None:
        teacher = self.make_teacher()
        a = teacher.features_for_video(self.frames(0), progress=False)
        b = teacher.features_for_video(self.frames(1), progress=False)
        assert not torch.allclose(a, b), "the features ignore the frames"

    def test_is_frozen(self) -> None:
        teacher = self.make_teacher()
        teacher.features_for_video(self.frames(), progress=False)  # teachers may load lazily
        trainable = [name for name, p in teacher.named_parameters() if p.requires_grad]
        assert not trainable, f"teacher parameters must be frozen: {trainable[:5]}"

    def test_cache_key_is_stable(self) -> None:
        keys = []
        for _ in range(2):
            torch.manual_seed(0)  # random-weight teachers draw their weights when they load
            keys.append(self.make_teacher().cache_key())
        assert keys[0] == keys[1], "the same teacher (same weights) must give the same cache key"

    def test_text_queries_work_or_refuse_clearly(self) -> None:
        teacher = self.make_teacher()
        if not teacher.has_text_tower:
            with pytest.raises(InrzooError, match="text"):
                teacher.encode_text(["a test"])
            return
        texts = teacher.encode_text(["a red square", "a blue sky"])
        assert tuple(texts.shape) == (2, teacher.feature_dim) and torch.isfinite(texts).all()
