"""Resource bounds: what a spec may ask of this machine, checked before anything is allocated.

Defaults are generous but finite. The memory bound follows the machine: a build that needs more
memory than is available is refused up front with a diagnostic, instead of being killed by the
OS halfway. Every bound can be raised through the API (`limits=`) and the CLI (`--max-*`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


@dataclass(frozen=True)
class Limits:
    """The bounds of one run; None for `max_memory` means the memory available on this machine."""

    max_params: int = 20_000_000_000  # 80 GB of fp32 weights; the largest zoo net has 127 M
    max_memory: int | None = field(default=None)  # bytes of weights and buffers at build
    max_activation: int = 2**31  # elements of the largest single feature map, per sample
    max_nodes: int = 200_000  # IR nodes; a 10,000-layer net has about 60,000
    max_extends: int = 16  # files in one extends chain (ConvNeXt's roadmap has 13)
    max_blocks: int = 5000  # blocks in all stages; the deepest net in the papers has 1001 layers

    def memory_bound(self) -> tuple[int | None, str]:
        """The memory bound in bytes, and where it comes from."""
        if self.max_memory is not None:
            return self.max_memory, "the max_memory bound"
        return available_memory(), "the memory this machine has available"


DEFAULT_LIMITS = Limits()


def parse_size(text: str) -> int:
    """Parse '30M', '4G', '1.5T', '2_000' or a plain integer; ValueError otherwise."""
    units = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    s = text.strip().upper().replace("_", "").removesuffix("B")
    unit = s[-1:] if s[-1:] in units and s[-1:] != "" and not s[-1:].isdigit() else ""
    number = s[: len(s) - len(unit)]
    try:
        value = float(number) * units[unit]
    except ValueError:
        raise ValueError(f"not a size: {text!r} (use e.g. 30M, 4G or 2000)") from None
    if not 0 < value < 1e18:
        raise ValueError(f"a size must be positive and finite: {text!r}")
    return int(value)
