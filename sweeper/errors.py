"""The errors sweeper reports to people, each with the exit code the CLI uses."""

from __future__ import annotations


class SweeperError(Exception):
    """A failure that is reported as one line, never as a traceback.

    ``exit_code`` follows the design: 1 for a run-time failure, 2 for bad input.
    """

    exit_code = 1


class BadInput(SweeperError):
    """The user gave something sweeper cannot use: a bad file, key, value, id or URL."""

    exit_code = 2


class SpecError(BadInput):
    """A sweep config with one or more problems, each ``(key.path, what is wrong)``."""

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None):
        self.problems = problems
        self.source = source
        super().__init__(self.render())

    def lines(self) -> list[str]:
        prefix = f"{self.source}: " if self.source else ""
        return [f"{prefix}{path}: {message}" if path else f"{prefix}{message}"
                for path, message in self.problems]

    def render(self) -> str:
        return "; ".join(self.lines())


class UnknownSweep(BadInput):
    """No sweep with that id in the storage."""


class StorageError(BadInput):
    """The storage URL cannot be opened, or the database is not a sweeper database."""
