"""The size of a weights file before it is read: the zip record table, checked against a bound.

`torch.load` inflates every storage record of the archive into memory before a single key can be
checked, so a 1 MB zip holding one deflated 1 GiB record costs 1 GiB. The zip's central
directory lists each record's inflated size; reading it costs a few kilobytes, so a file that
would ask for more than the bound is refused before anything is inflated. A file that is not a
zip (torch's legacy format) stores its tensors uncompressed: its own size is what it costs.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ...core.limits import Limits

# The pickle of keys and tensor metadata: ~100 bytes a key, so 16 MiB is ~150,000 keys (resnet1202
# has 10,000); the bound also caps what unpickling its lists and dicts can cost in memory.
MAX_PICKLE_BYTES = 16 << 20
# Inflated storage allowed per byte of the module's own state: fp64 weights for an fp16 module
# are 4x, and a training checkpoint carries optimizer moments beside the weights.
STATE_SLACK = 8
MIN_BOUND = 64 << 20  # a small net's checkpoint may still carry a few MB of extras


@dataclass(frozen=True)
class Bound:
    """How many bytes a weights file may inflate to, and the flag that names that bound."""

    limit: int
    what: str  # e.g. "8x the module's 1.1 MB of state", "--max-memory 100M"


def storage_bound(own_bytes: int, max_params: int, memory: int | None, memory_what: str
                  ) -> Bound:
    """The tightest of: a multiple of the module's own state, the params bound and memory."""
    options = [Bound(max(STATE_SLACK * own_bytes, MIN_BOUND),
                     f"{STATE_SLACK}x the module's {own_bytes / 1e6:.1f} MB of weights and "
                     "buffers"),
               Bound(8 * max_params, f"the max_params bound ({max_params:,} fp64 values)")]
    if memory is not None:
        options.append(Bound(memory, memory_what))
    return min(options, key=lambda b: b.limit)


def _size(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def archive_problem(path: Path, bound: Bound) -> str | None:
    """Why the file at `path` may not be inflated under `bound`, or None when it may.

    Only the zip's central directory is read; no record is inflated. OSError propagates.
    """
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
        return "it is not a regular file"
    with path.open("rb") as f:
        if not zipfile.is_zipfile(f):
            # torch's legacy format: storages are written raw, so the file's size is their size.
            if info.st_size > bound.limit:
                return (f"it is {_size(info.st_size)}, over {_size(bound.limit)} "
                        f"({bound.what})")
            return None
        f.seek(0)
        try:
            records = zipfile.ZipFile(f).infolist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            return f"its zip record table cannot be read ({exc})"
    total = 0
    for rec in records:
        if rec.filename.endswith(".pkl") and rec.file_size > MAX_PICKLE_BYTES:
            return (f"its record {rec.filename} inflates to {_size(rec.file_size)}, over the "
                    f"{_size(MAX_PICKLE_BYTES)} a table of keys needs")
        total += rec.file_size
        if total > bound.limit:
            return (f"its records inflate to more than {_size(bound.limit)} ({bound.what}); "
                    f"record {rec.filename} alone is {_size(rec.file_size)}")
    return None


def file_label(path: str | os.PathLike[str]) -> str:
    """The path as the user gave it, cut when very long, for messages."""
    text = os.fspath(path)
    return text if len(text) <= 200 else text[:120] + "..." + text[-60:]


def precheck(path: Path, params: int, limits: Limits) -> str | None:
    """Why a weights file for a net of `params` fp32 parameters may not be read, or None.

    Needs no torch and no built module, so `archc build` refuses a zip bomb before torch is even
    imported; the load repeats the check against the module's exact state.
    """
    memory, what = limits.memory_bound()
    return archive_problem(path, storage_bound(4 * params, limits.max_params, memory, what))
