"""Commands on sweeps held by a backend."""

COMMANDS: list = []
