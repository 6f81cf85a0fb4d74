"""The hypernetwork-head registry."""

from __future__ import annotations

from inrzoo.hypernets.base import HyperHead
from inrzoo.registry import Registry

HYPERNETS: Registry[HyperHead] = Registry("hypernet", "inrzoo.hypernets", HyperHead, publish=True)
register_hypernet = HYPERNETS.register
create_hypernet = HYPERNETS.create
list_hypernets = HYPERNETS.names
