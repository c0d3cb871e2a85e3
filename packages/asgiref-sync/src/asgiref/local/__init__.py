"""Thread- and task-local attribute storage that follows the sync/async bridge."""

from __future__ import annotations

from ._local import DefaultLocal as _DefaultLocal
from ._local import Local as Local
from ._local import ThreadCriticalLocal as _ThreadCriticalLocal

# The private concrete classes are exported because asgiref's own tests and
# some callers check ``type(Local()) is _DefaultLocal``.
__all__ = ["Local", "_DefaultLocal", "_ThreadCriticalLocal"]

for _cls in (Local, _DefaultLocal, _ThreadCriticalLocal):
    _cls.__module__ = __name__
del _cls
