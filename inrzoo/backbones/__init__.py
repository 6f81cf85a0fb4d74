"""INR backbones: the per-frame networks whose weights the hypernetworks modulate."""

from inrzoo.backbones.base import INRBackbone
from inrzoo.backbones.coordinate_mlp import CoordinateMLP, FourierMLPBackbone, SirenBackbone
from inrzoo.backbones.grid_mlp import GridMLPBackbone
from inrzoo.backbones.hinerv import HiNeRVBackbone
from inrzoo.backbones.hnerv import HNeRVBackbone
from inrzoo.backbones.layers import LayerParams, LayerParamsMap, ModulatedConv2d, ModulatedLayer, ModulatedLinear
from inrzoo.backbones.nerv import NeRVBackbone
from inrzoo.backbones.registry import BACKBONES, create_backbone, list_backbones, register_backbone
from inrzoo.backbones.spatial import SpatialLatentBackbone

__all__ = [
    "BACKBONES",
    "CoordinateMLP",
    "FourierMLPBackbone",
    "GridMLPBackbone",
    "HNeRVBackbone",
    "HiNeRVBackbone",
    "INRBackbone",
    "LayerParams",
    "LayerParamsMap",
    "ModulatedConv2d",
    "ModulatedLayer",
    "ModulatedLinear",
    "NeRVBackbone",
    "SirenBackbone",
    "SpatialLatentBackbone",
    "create_backbone",
    "list_backbones",
    "register_backbone",
]
