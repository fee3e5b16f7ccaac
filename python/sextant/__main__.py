"""python -m sextant: the command-line tool (see sextant.cli)."""
import sys

from .cli import main

sys.exit(main())
