"""Callbacks: end-of-fit files, prediction writers, divergence handling."""

from inrzoo.callbacks.divergence import DivergenceGuard, TrainingDiverged
from inrzoo.callbacks.fit_report import FitReport
from inrzoo.callbacks.prediction_writer import VideoPredictionWriter

__all__ = ["DivergenceGuard", "FitReport", "TrainingDiverged", "VideoPredictionWriter"]
