"""Observe the sync/async bridge: events for monitoring agents, tracers and tests.

Register a :class:`BridgeObserver` with :func:`add_observer` (or, for a block,
with :func:`observing`). Each crossing of the bridge — a ``sync_to_async`` or an
``async_to_sync`` call — is a :class:`Hop`, and the observer hears four events
for it: submitted (caller side), started and ended (where the work runs),
resumed (caller side). With no observer registered the bridge pays one check
per call and nothing else.
"""

from __future__ import annotations

from ._observe import BridgeObserver as BridgeObserver
from ._observe import Direction as Direction
from ._observe import Hop as Hop
from ._observe import Route as Route
from ._observe import add_observer as add_observer
from ._observe import observing as observing
from ._observe import remove_observer as remove_observer

__all__ = [
    "BridgeObserver",
    "Direction",
    "Hop",
    "Route",
    "add_observer",
    "observing",
    "remove_observer",
]

for _defined_here in (BridgeObserver, Hop, add_observer, observing, remove_observer):
    _defined_here.__module__ = __name__
del _defined_here
