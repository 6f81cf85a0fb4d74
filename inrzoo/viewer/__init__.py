"""``inrzoo view``: a local web viewer of a fitted run, a retrieval index or a bench folder (application layer).

:class:`ViewedRun` decodes what the page asks for (a frame, a fractional time, a scale) from the run's
model, one decode at a time; :class:`ViewedIndex` ranks an index's videos for a text or a video query and
decodes their thumbnails; :class:`ViewedBench` reads a bench report. :func:`open_viewed` tells them apart;
:func:`create_app` serves any of them as JSON/PNG endpoints and one static page.
"""

from inrzoo.viewer.app import create_app
from inrzoo.viewer.background import served
from inrzoo.viewer.bench import ViewedBench
from inrzoo.viewer.kinds import Viewed, open_viewed
from inrzoo.viewer.search import ViewedIndex
from inrzoo.viewer.session import ViewedRun, ViewerInputError

__all__ = [
    "ViewedBench",
    "ViewedIndex",
    "ViewedRun",
    "Viewed",
    "ViewerInputError",
    "create_app",
    "open_viewed",
    "served",
]
