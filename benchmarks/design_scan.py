"""Design scan for the quickstart (issue 12): decoders, latents and encoders at equal epochs.

A plain PyTorch loop over inrzoo's own modules (no Lightning, no callbacks), so one design differs
from another only in what the flags change. Every run trains from seed 0 for ``--epochs`` epochs
on every frame and prints one JSON line: parameters (decoder + latents + head; the encoder is not
counted), forward MFLOPs per frame, s/epoch (wall clock: compare within one run only), and the
decoded video's mean / worst / 5th-percentile PSNR. The runs recorded in
``results/design_scan_cpu.jsonl`` are listed in benchmarks/README.md with their flags, e.g.

    .venv/bin/python benchmarks/design_scan.py --epochs 15 --ch 48,16 --strides 5,2 --hs 2 --ks 3,3 \
        --ldim 4 --bs 2 --enc 16 --lr 1e-2
"""

import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from inrzoo.backbones.hnerv import HNeRVBackbone
from inrzoo.backbones.nerv import NeRVBackbone
from inrzoo.data import VideoDataModule
from inrzoo.hypernets.heads import FiLMHyperHead, LowRankGateHyperHead

p = argparse.ArgumentParser()
p.add_argument("--video", default="sample:bunny")
p.add_argument("--size", default="180,320")
p.add_argument("--arch", default="hnerv")
p.add_argument("--ch", default="64,53,44,37")
p.add_argument("--strides", default="5,2,2,2")
p.add_argument("--ks", default="")
p.add_argument("--ldim", type=int, default=16)
p.add_argument("--head", default="none")
p.add_argument("--hidden", type=int, default=32)
p.add_argument("--layers", default="")
p.add_argument("--epochs", type=int, default=20)
p.add_argument("--bs", type=int, default=2)
p.add_argument("--lr", type=float, default=3e-3)
p.add_argument("--llr", type=float, default=0)
p.add_argument("--enc", type=int, default=0)
p.add_argument("--cl", type=int, default=0)
p.add_argument("--bf16", type=int, default=0)
p.add_argument("--frames", type=int, default=0)
p.add_argument("--l1", type=float, default=0)
p.add_argument("--hs", type=int, default=1)
p.add_argument("--sg", type=int, default=0)
p.add_argument("--tag", default="")
a = p.parse_args()
torch.manual_seed(0)
torch.set_num_threads(2)
H, W = map(int, a.size.split(","))
dm = VideoDataModule(a.video, resize=(H, W), max_frames=a.frames or None)
frames = dm.frames[:]
T = frames.shape[0]
tgt = frames.float() / 255
if a.arch == "hnerv":
    bb = HNeRVBackbone(
        tuple(map(int, a.ch.split(","))),
        tuple(map(int, a.strides.split(","))),
        tuple(map(int, a.ks.split(","))) if a.ks else None,
        head_stride=a.hs,
        shared_grid=bool(a.sg),
    )
    shape = bb.latent_shape(a.ldim, (H, W))
else:
    bb = NeRVBackbone(tuple(map(int, a.ch.split(","))), tuple(map(int, a.strides.split(","))), 16)
    shape = (a.ldim,)
bb.build(a.ldim, (H, W))
D = math.prod(shape)
lat = nn.Parameter(0.1 * torch.randn(T, D))
layers = bb.modulated_layers()
head = None
if a.head != "none":
    pats = a.layers.split(",") if a.layers else None
    head = (FiLMHyperHead(a.hidden, pats) if a.head == "film" else LowRankGateHyperHead(a.hidden, 4, pats)).build(
        D, layers
    )
enc = None
if a.enc:
    m = bb.size_multiple
    # patchify encoder: frame (padded) -> latent grid
    c = a.enc
    # A patchify encoder (the harness's own; the library's is inrzoo.models.FrameEncoder).
    enc = nn.Sequential(
        nn.Conv2d(3, c, 5, 5),
        nn.GELU(),
        nn.Conv2d(c, c, 3, padding=1),
        nn.GELU(),
        nn.Conv2d(c, 2 * c, 2, 2),
        nn.GELU(),
        nn.Conv2d(2 * c, 2 * c, 2, 2),
        nn.GELU(),
        *([nn.Conv2d(2 * c, 2 * c, 2, 2), nn.GELU()] * (int(math.log2(m // 20)))),
        nn.Conv2d(2 * c, a.ldim, 1),
    )
RH, RW = bb.render_size()

with FlopCounterMode(display=False) as fc:
    _z = lat[:1].detach()
    _p = bb.params_by_layer(head(_z, layers)) if head is not None else {}
    bb(_z, _p)
fwd_flops = fc.get_total_flops()


def decode(z):
    params = bb.params_by_layer(head(z, layers)) if head is not None else {}
    return bb(z, params)[..., :H, :W]


def latents_of(idx):
    if enc is None:
        return lat[idx]
    x = F.pad(tgt[idx], (0, RW - W, 0, RH - H))
    return enc(x).flatten(1)


nparam = (
    sum(p.numel() for p in bb.parameters()) + (sum(p.numel() for p in head.parameters()) if head else 0) + lat.numel()
)
groups = [
    {
        "params": list(bb.parameters())
        + (list(head.parameters()) if head else [])
        + (list(enc.parameters()) if enc else []),
        "lr": a.lr,
    },
    {"params": [lat], "lr": a.llr or a.lr},
]
opt = torch.optim.Adam(groups, betas=(0.9, 0.999))
steps_per_epoch = math.ceil(T / a.bs)
total = steps_per_epoch * a.epochs
warm = int(0.05 * total) or 1
sched = torch.optim.lr_scheduler.LambdaLR(
    opt,
    lambda s: (
        min((s + 1) / warm, 1)
        * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1, max(0, s - warm) / (total - warm)))))
    ),
)
if a.cl:
    bb.to(memory_format=torch.channels_last)
t0 = time.perf_counter()
step = 0
for ep in range(a.epochs):
    perm = torch.randperm(T)
    for i in range(0, T, a.bs):
        idx = perm[i : i + a.bs]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(a.bf16)):
            out = decode(latents_of(idx))
        out = out.float()
        loss = F.mse_loss(out, tgt[idx]) + (a.l1 * F.l1_loss(out, tgt[idx]) if a.l1 else 0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
    if ep % 10 == 9 or ep == a.epochs - 1:
        print(f"ep {ep + 1} {time.perf_counter() - t0:.0f}s loss {loss.item():.5f}", flush=True)
train_s = time.perf_counter() - t0
if enc is not None:
    with torch.no_grad():
        lat.data = torch.cat([latents_of(torch.arange(i, min(i + 8, T))) for i in range(0, T, 8)])
with torch.no_grad():
    t1 = time.perf_counter()
    dec = torch.cat([(decode(lat[i : i + 8]).clamp(0, 1) * 255).round() for i in range(0, T, 8)])
    dfps = T / (time.perf_counter() - t1)
    mse = ((dec / 255 - tgt) ** 2).mean(dim=(1, 2, 3))
    ps = -10 * torch.log10(mse)
print(
    json.dumps(
        dict(
            args=vars(a),
            mflops=round(fwd_flops / 1e6, 1),
            gflops_s=round(3 * fwd_flops * T * a.epochs / train_s / 1e9, 1),
            params=nparam,
            bb=sum(p.numel() for p in bb.parameters()),
            lat=lat.numel(),
            train_s=round(train_s, 1),
            s_per_epoch=round(train_s / a.epochs, 2),
            psnr_mean=round(ps.mean().item(), 3),
            worst=round(ps.min().item(), 3),
            p5=round(ps.quantile(0.05).item(), 3),
            psnr_global=round((-10 * torch.log10(mse.mean())).item(), 3),
            dfps=round(dfps, 1),
        )
    )
)
