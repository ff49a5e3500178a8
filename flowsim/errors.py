"""Errors that flowsim reports to its users."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FlowsimError", "FlowsimWarning", "Issue", "MassBalanceError", "ScenarioError"]


class FlowsimError(Exception):
    """Base class of the errors the CLI reports as a message, without a traceback."""


class FlowsimWarning(UserWarning):
    """Something a user should know that does not stop the work: the CLI prints it
    as a ``warning:`` line."""


@dataclass(frozen=True)
class Issue:
    """One problem in a scenario: where it is and what is wrong."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class ScenarioError(FlowsimError):
    """A scenario file, or an override of it, is not valid."""

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))

    def __reduce__(self):  # rebuilt from its issues when it crosses a process boundary
        return (type(self), (self.issues,))


class MassBalanceError(FlowsimError):
    """Mass was created or destroyed somewhere it should not have been."""
