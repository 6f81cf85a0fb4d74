"""Many videos: corpus manifests and ``inrzoo fit-many``."""

from inrzoo.fleet.fit_many import fit_many, latest_checkpoint
from inrzoo.fleet.manifest import ManifestEntry, read_manifest
from inrzoo.fleet.results import VideoOutcome

__all__ = ["ManifestEntry", "VideoOutcome", "fit_many", "latest_checkpoint", "read_manifest"]
