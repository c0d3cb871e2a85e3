"""Downstream proof: Django's and Daphne's own test suites on our distributions.

    python downstream/run.py [--target django-5.2@3.10 ...] [--only ours|published]

See downstream/README.md, or run with --help.
"""

from __future__ import annotations

import sys

from harness.cli import main

if __name__ == "__main__":
    sys.exit(main())
