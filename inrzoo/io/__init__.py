"""Files in and out: videos, stills, and never-overwrite output paths."""

from inrzoo.io.files import claim_output
from inrzoo.io.video_io import write_comparison_png, write_mp4, write_png_frames

__all__ = ["claim_output", "write_comparison_png", "write_mp4", "write_png_frames"]
