"""Driver for the downstream compatibility runs (``python downstream/run.py``).

The driver needs only the standard library, so any interpreter can start it;
everything it installs goes into virtualenvs under the cache directory.
"""

from __future__ import annotations
