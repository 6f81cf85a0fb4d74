"""The backbone registry (kept apart from the classes so they can import it)."""

from __future__ import annotations

from inrzoo.backbones.base import INRBackbone
from inrzoo.registry import Registry

BACKBONES: Registry[INRBackbone] = Registry("backbone", "inrzoo.backbones", INRBackbone, publish=True)
register_backbone = BACKBONES.register
create_backbone = BACKBONES.create
list_backbones = BACKBONES.names
