"""Where the summary used to live: it is reporting, now in `archcompiler.report.summary`.

Kept for the diagram renderer's `from ..summary import fmt_shape`; new code imports the new place.
"""

from __future__ import annotations

from ..report.summary import fmt_shape

__all__ = ["fmt_shape"]
