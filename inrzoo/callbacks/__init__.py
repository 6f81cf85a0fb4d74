"""Callbacks that turn a fit or a prediction into files a person can look at."""

from inrzoo.callbacks.fit_report import FitReport
from inrzoo.callbacks.prediction_writer import VideoPredictionWriter

__all__ = ["FitReport", "VideoPredictionWriter"]
