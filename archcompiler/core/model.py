"""The base of every spec model, block configs included: strict, frozen and closed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SpecModel(BaseModel):
    """Base of every spec model: unknown keys, coercion, NaN and mutation are all refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False,
                              defer_build=True)
