"""asgiref: ASGI specs, helper code and adapters.

This file belongs to the ``asgiref`` meta-distribution alone. Every other
distribution (asgiref-types, asgiref-sync, asgiref-wsgi, asgiref-testing,
asgiref-server) installs a portion of the ``asgiref`` namespace beside it.
"""

from __future__ import annotations

from pkgutil import extend_path

# A regular package hides namespace portions that live on other sys.path
# entries (editable installs put each distribution's src/ on its own entry),
# so gather every ``asgiref`` directory on sys.path into this package's path.
__path__ = extend_path(__path__, __name__)

__version__ = "3.13.0"
