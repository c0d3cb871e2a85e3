"""The ASGI application, and a startup line that proves which asgiref this process runs.

Daphne, uvicorn and ``manage.py runworker`` all import this module, so each process
prints ``E2E-ASGIREF {json}`` to stderr once: the driver reads it from every log and
fails the run unless the asgiref that was meant to be tested is the one imported.
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chat.settings")
django.setup()

# A hung process is asked for its stacks with SIGUSR1 before it is killed.
faulthandler.register(signal.SIGUSR1, all_threads=True)


def _asgiref_identity() -> dict[str, object]:
    import importlib.metadata

    import asgiref
    import asgiref.server
    import asgiref.sync

    providers = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in importlib.metadata.distributions()
        if any(str(f).startswith("asgiref/") for f in (dist.files or ()))
    )
    return {
        "pid": os.getpid(),
        "argv": sys.argv[:3],
        "version": getattr(asgiref, "__version__", None),
        "sync_file": asgiref.sync.__file__,
        "server_file": asgiref.server.__file__,
        "providers": providers,
    }


print("E2E-ASGIREF " + json.dumps(_asgiref_identity()), file=sys.stderr, flush=True)

from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from chat.consumers import (  # noqa: E402
    TASK_CHANNEL,
    AsyncRoomConsumer,
    SyncRoomConsumer,
    TaskConsumer,
)

application = ProtocolTypeRouter(
    {
        "websocket": URLRouter(
            [
                path("ws/sync/<str:room>/", SyncRoomConsumer.as_asgi()),
                path("ws/async/<str:room>/", AsyncRoomConsumer.as_asgi()),
            ]
        ),
        "channel": ChannelNameRouter({TASK_CHANNEL: TaskConsumer.as_asgi()}),
    }
)
