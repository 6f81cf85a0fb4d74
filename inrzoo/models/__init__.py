"""The video representation and its training module."""

from inrzoo.models.frame_encoder import FrameEncoder
from inrzoo.models.latent_dictionary import LatentDictionary
from inrzoo.models.losses import ReconstructionLoss
from inrzoo.models.rate import RateTerm
from inrzoo.models.video_inr import VideoINR

__all__ = ["FrameEncoder", "LatentDictionary", "RateTerm", "ReconstructionLoss", "VideoINR"]
