"""Settings of the chat site: no database, a Redis channel layer on the driver's port."""

from __future__ import annotations

import os

SECRET_KEY = "e2e-channels-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels", "chat"]
DATABASES: dict[str, object] = {}
USE_TZ = True
ROOT_URLCONF = "chat.urls"
ASGI_APPLICATION = "chat.asgi.application"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": f"redis://127.0.0.1:{os.environ.get('E2E_REDIS_PORT', '6379')}",
                    # redis-py 8 reads with a 5 s socket timeout by default, the same 5 s
                    # that channels_redis blocks in BZPOPMIN: an idle consumer or worker
                    # then dies of a TimeoutError. Any value above 5 s avoids the race.
                    "socket_timeout": 15,
                    # After a Redis restart every pooled connection is dead; without a health
                    # check each one kills the consumer that next draws it from the pool, for
                    # as long as stale connections remain (seconds to minutes later). With
                    # it, a connection idle for over 1 s is PINGed (and reconnected) first.
                    "health_check_interval": 1,
                }
            ],
            # The default (100) silently drops group messages for a whole server process
            # once 100 are queued for it: production sites raise it, and a drop there would
            # be counted as loss that no fault caused.
            "capacity": 100_000,
        },
    }
}
