"""Process-group plumbing for multi-process training under torchrun.

`torchrun --nproc_per_node N -m ttm.train ...` sets RANK, WORLD_SIZE and LOCAL_RANK; `from_env`
reads them, joins the process group (NCCL on GPUs, gloo on CPU) and returns a Context. Without
them it returns the single-process Context, whose collectives are no-ops, so the Trainer has one
code path.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        """Rank 0: the only process that prints, publishes snapshots and writes checkpoints."""
        return self.rank == 0

    def device(self, device: torch.device) -> torch.device:
        """One GPU per process: a bare "cuda" becomes this rank's local GPU."""
        if self.enabled and device.type == "cuda" and device.index is None:
            return torch.device("cuda", self.local_rank)
        return device

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        """The module to train: DistributedDataParallel (averages gradients) or the model itself."""
        if not self.enabled:
            return model
        ids = [device.index] if device.type == "cuda" else None
        # The model's buffers are constants (pooling bins, FIFO selection): no need to
        # re-broadcast them before every forward.
        return nn.parallel.DistributedDataParallel(model, device_ids=ids, broadcast_buffers=False)

    def broadcast(self, obj):
        """Rank 0's `obj` on every rank (a picklable object; other ranks pass anything)."""
        if not self.enabled:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def any(self, flag: bool, device: torch.device) -> bool:
        """True on every rank when `flag` is true on some rank: stop decisions must agree, or a
        rank that stops alone leaves the others waiting in a collective forever."""
        if not self.enabled:
            return flag
        t = torch.tensor([float(flag)], device=device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def mean_loss(self, loss: torch.Tensor) -> tuple[float, bool]:
        """(loss averaged over ranks, whether it is finite on every rank), one collective.

        A non-finite loss must be skipped by every rank together: DDP's backward is a collective.
        """
        if not self.enabled:
            return loss.item(), bool(torch.isfinite(loss))
        t = torch.stack([loss.detach().float(), torch.isfinite(loss).float()])
        dist.all_reduce(t)
        total, finite = t.tolist()
        return total / self.world_size, finite == self.world_size


def from_env(device_type: str) -> Context:
    """The Context of this process, joining the process group when torchrun launched several."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Context()
    ctx = Context(rank=int(os.environ["RANK"]), world_size=world_size,
                  local_rank=int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        if device_type == "cuda":
            torch.cuda.set_device(ctx.local_rank)
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    return ctx


def shutdown() -> None:
    """Leave the process group together: a rank that tears down its gloo pairs while rank 0 is
    still writing the checkpoint can abort the process at exit ("terminate called ...")."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
