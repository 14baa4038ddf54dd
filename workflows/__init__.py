"""Temporal workflow definitions: deterministic, importing only domain/ and activity names."""

from workflows.cycle import CommitteeCycle
from workflows.year import OpenYear

WORKFLOWS: list[type] = [CommitteeCycle, OpenYear]

__all__ = ["WORKFLOWS", "CommitteeCycle", "OpenYear"]
