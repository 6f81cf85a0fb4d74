"""Conformance tests for plugin authors, in the style of diffusers' and torchmetrics' testers.

Subclass a mixin in a ``Test*`` class of your plugin's test suite and provide a factory::

    from inrzoo.testing import BackboneConformance, HyperHeadConformance

    class TestGaborBackbone(BackboneConformance):
        def make_backbone(self):
            return GaborMLPBackbone(width=16, depth=3)

    class TestMyHead(HyperHeadConformance):
        def make_hypernet(self, layers=None):
            return MyHead(hidden=8, layers=layers)

pytest then checks the plugin against the contract: shapes, gradient flow, state-dict
round trips, and that it works with every registered counterpart (backbone x head).
Importing this module needs pytest.
"""

from inrzoo.testing.backbone import BackboneConformance
from inrzoo.testing.factories import accepted_kwargs, random_latents, random_target, tiny_backbone, tiny_hypernet
from inrzoo.testing.hypernet import HyperHeadConformance
from inrzoo.testing.teacher import TeacherConformance

__all__ = [
    "BackboneConformance",
    "HyperHeadConformance",
    "TeacherConformance",
    "accepted_kwargs",
    "random_latents",
    "random_target",
    "tiny_backbone",
    "tiny_hypernet",
]
