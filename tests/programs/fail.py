"""Always fails, saying why on stderr."""

import sys

print("loading data...")
print("ValueError: the data file is missing", file=sys.stderr)
sys.exit(3)
