"""Example inrzoo plugin: one backbone and one teacher, found through entry points."""

from inrzoo_example_plugin.color_stats import ColorStatsTeacher
from inrzoo_example_plugin.gabor import GaborMLPBackbone

__all__ = ["ColorStatsTeacher", "GaborMLPBackbone"]
