"""Where tensors live, and seeded generators that stay on the CPU.

Introduced in ``00_start_here``. The course runs on the CPU by default so that stored outputs
reproduce; ``SEQUENTIA_DEVICE=cuda`` (or ``mps``) opts in to an accelerator. Random numbers always
come from a CPU ``torch.Generator`` and are moved afterwards (:func:`randn`), so the same seed gives
the same initialisation and the same batches on every device; the helpers that draw from a generator
call :func:`check_cpu` first, so a CPU generator is never handed to a GPU operation by accident.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

#: The course's seed (the one the lectures use) for the bigram notebooks, initialisation and sampling.
SEED = 2147483647


def get_device(name: str | None = None, *, fix: str = "Unset SEQUENTIA_DEVICE to run on the CPU.") -> torch.device:
    """The device named by ``name``, else by ``$SEQUENTIA_DEVICE``, else the CPU.

    Raises ``ValueError`` for an unknown name and ``RuntimeError`` when the requested accelerator is
    not available; both messages end with ``fix``, what to do (``sequentia --device`` passes its own).
    """
    source = "device" if name else "SEQUENTIA_DEVICE"
    name = (name or os.environ.get("SEQUENTIA_DEVICE") or "cpu").strip().lower()
    if name not in {"cpu", "cuda", "mps"} and not name.startswith("cuda:"):
        raise ValueError(f"unknown device {name!r}; use cpu, cuda (or cuda:N) or mps.")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"{source} {name}: this torch build sees no CUDA GPU (torch {torch.__version__}). {fix}")
    if name == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(f"{source} {name}: MPS is not available here. {fix}")
    try:
        return torch.device(name)
    except RuntimeError:  # "cuda:x"
        raise ValueError(f"unknown device {name!r}; use cpu, cuda (or cuda:N) or mps.") from None


def make_generator(seed: int = SEED) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed`` (default: the course's 2147483647)."""
    return torch.Generator().manual_seed(seed)


def check_cpu(generator: torch.Generator) -> None:
    """Raise ``ValueError`` unless ``generator`` lives on the CPU (as :func:`make_generator`'s do).

    The helpers that take a generator (here, in ``utils.train`` and ``utils.sampling``) call it first.
    """
    if generator.device.type != "cpu":
        raise ValueError("the course's helpers expect a CPU generator (see utils.device.make_generator).")




def randn(*shape: int, generator: torch.Generator, device: torch.device | str | None = None) -> torch.Tensor:
    """``torch.randn`` drawn from a CPU generator, then moved to ``device``."""
    check_cpu(generator)
    return torch.randn(*shape, generator=generator).to(device or "cpu")


def cpu_model() -> str:
    """The CPU's model name (``lscpu``'s, read from /proc/cpuinfo), for the benchmarks' and sweeps' reports."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"
