"""Callbacks: end-of-fit files, the run's checkpoints, prediction writers, divergence handling."""

from inrzoo.callbacks.checkpoint import RunCheckpoint
from inrzoo.callbacks.divergence import DivergenceGuard, TrainingDiverged
from inrzoo.callbacks.fit_report import FitReport
from inrzoo.callbacks.prediction_writer import VideoPredictionWriter

__all__ = ["DivergenceGuard", "FitReport", "RunCheckpoint", "TrainingDiverged", "VideoPredictionWriter"]
