"""What a plugin author runs: inrzoo's conformance mixins against this package's classes.

pip install -e plugins/inrzoo-example-plugin && pytest plugins/inrzoo-example-plugin/tests
"""

from __future__ import annotations

from inrzoo_example_plugin import ColorStatsTeacher, GaborMLPBackbone

from inrzoo.testing import BackboneConformance, TeacherConformance


class TestGaborMLP(BackboneConformance):
    def make_backbone(self) -> GaborMLPBackbone:
        return GaborMLPBackbone(width=16, depth=3)


class TestColorStats(TeacherConformance):
    def make_teacher(self) -> ColorStatsTeacher:
        return ColorStatsTeacher(grid=2)
