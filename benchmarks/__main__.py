"""``python -m tinygrad_edu.benchmarks [options]`` is ``tinygrad-edu bench [options]``."""
import sys

from tinygrad_edu.cli import main

sys.exit(main(["bench", *sys.argv[1:]]))
