"""Code that runs inside the programs a local agent starts (put on their PYTHONPATH)."""
