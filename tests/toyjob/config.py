"""ToyConfig: every option of `rnnlab toy fit`, validated at the boundary."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnnlab.config import JobConfig, option
from rnnlab.errors import UserError


@dataclass(frozen=True)
class ToyConfig(JobConfig):
    """Options of `rnnlab toy fit` (each field is the option `--field-name`)."""

    data: str = option("", "CSV file to read.", "Data")
    column: str = option("value", "Numeric column whose mean is learned.", "Data")
    scale: float = option(1.0, "Multiply the learned mean by this (> 0).", "Model")

    def validate(self) -> None:
        if not self.data:
            raise UserError("--data is required: give a CSV file")
        if not self.column:
            raise UserError("--column must name a column of --data")
        if not math.isfinite(self.scale) or self.scale <= 0:
            raise UserError(f"--scale must be a finite number > 0; got {self.scale}")
