"""Program files that sweeper's agent runs by path (alone in this folder, which becomes the
program's first import path)."""
