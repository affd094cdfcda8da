"""``python -m pitfalls``: Python put the working directory (the checked repository, often)
first on ``sys.path``; drop it before anything else is imported, so that a repository's
``libcst.py`` or ``pydantic/`` can never run in place of pitfalls' own dependencies."""

import os
import sys

_cwd = os.path.realpath(os.getcwd())
sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) != _cwd]

from pitfalls.cli.main import main  # noqa: E402 (after the path is safe)

raise SystemExit(main())
