"""End-to-end tests of real-world shapes of W&B sweeps and programs, one file per shape: each
runs `sweeper run` on a W&B program (offline mode) the way its author wrote it."""
