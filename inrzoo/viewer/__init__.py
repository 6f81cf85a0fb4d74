"""``inrzoo view``: a local web viewer of a fitted run (application layer, over :mod:`inrzoo.runs`).

:class:`ViewedRun` decodes what the page asks for (a frame, a fractional time, a scale) from the run's
model, one decode at a time; :func:`create_app` serves it as JSON/PNG endpoints and one static page.
"""

from inrzoo.viewer.app import create_app
from inrzoo.viewer.background import served
from inrzoo.viewer.session import ViewedRun, ViewerInputError

__all__ = ["ViewedRun", "ViewerInputError", "create_app", "served"]
