"""channels_redis alone: two processes receive() on one normal channel; some messages twice.

No Channels consumer and no asgiref bridge is involved: this is why the e2e run counts
duplicates on the worker path (two runworker processes on one channel) apart from the
room path, and does not fail on them. Run with a venv that has channels_redis::

    redis-server --port 16380 --save "" &
    python two_receivers.py 16380

It prints how many of 3000 messages were received twice (about 5-10 % on two cores).
The cause: every receiver of a channel shares one in-flight backup key
(``<channel>$inflight``); a receiver's clean-up step moves whatever is in it back into
the queue, including a message another receiver popped a moment before and has not yet
cleared from the backup.
"""

from __future__ import annotations

import asyncio
import collections
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from channels_redis.core import RedisChannelLayer

MESSAGES = 3000


def _layer(port: int) -> RedisChannelLayer:
    return RedisChannelLayer(
        hosts=[{"address": f"redis://127.0.0.1:{port}", "socket_timeout": 15}],
        capacity=100_000,
    )


async def _consume(port: int, out: Path) -> None:
    layer = _layer(port)
    seen: list[int] = []
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            message = await asyncio.wait_for(layer.receive("jobs"), 2)
        except TimeoutError:
            break
        seen.append(int(message["n"]))
    await asyncio.to_thread(out.write_text, json.dumps(seen))


async def _produce(port: int) -> None:
    layer = _layer(port)
    for n in range(MESSAGES):
        await layer.send("jobs", {"type": "job", "n": n})


def main() -> int:
    port = int(sys.argv[1])
    if len(sys.argv) > 2:  # a receiver process
        asyncio.run(_consume(port, Path(sys.argv[2])))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        outs = [Path(tmp) / f"{i}.json" for i in range(2)]
        receivers = [
            subprocess.Popen([sys.executable, __file__, str(port), str(out)]) for out in outs
        ]
        try:
            time.sleep(1.5)
            asyncio.run(_produce(port))
            for receiver in receivers:
                receiver.wait(timeout=60)
        finally:
            for receiver in receivers:
                if receiver.poll() is None:
                    receiver.kill()
        counts = collections.Counter(n for out in outs for n in json.loads(out.read_text()))
    twice = sum(1 for c in counts.values() if c > 1)
    print(
        f"{MESSAGES} sent, {len(counts)} distinct received, {twice} received twice, "
        f"{MESSAGES - len(counts)} never"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
