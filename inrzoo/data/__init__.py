"""Video data: decoding, caching, the sample clips, and the LightningDataModule."""

from inrzoo.data.datamodule import FrameDataset, VideoDataModule, split_frames
from inrzoo.data.frame_store import FrameStore
from inrzoo.data.samples import SAMPLE_FILES, resolve_video_path, sample_dir
from inrzoo.data.video import FrameGeometry, VideoInfo, decode_video, load_frames, probe_video

__all__ = [
    "SAMPLE_FILES",
    "FrameDataset",
    "FrameGeometry",
    "FrameStore",
    "VideoDataModule",
    "VideoInfo",
    "decode_video",
    "load_frames",
    "probe_video",
    "resolve_video_path",
    "sample_dir",
    "split_frames",
]
