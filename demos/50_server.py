"""asgiref.server at work: a chat bot multiplexing users over one transport.

A StatelessServer subclass reads (user, text) lines from an in-memory "transport",
runs one ASGI application instance per user, evicts the least recently used one
when there are too many, and lets its checker report a crashed instance and drop
finished ones.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from typing import Any

from asgiref.server import StatelessServer


class FirstLine(logging.Formatter):
    """Show the first line of each log record; the traceback that follows is elided."""

    def format(self, record: logging.LogRecord) -> str:
        lines = super().format(record).splitlines()
        more = f"  (+{len(lines) - 1} traceback lines)" if len(lines) > 1 else ""
        return f"        [log {record.name}] {lines[0]}{more}"


_handler = logging.StreamHandler(sys.stdout)
_handler.setFormatter(FirstLine())
logging.basicConfig(level=logging.INFO, handlers=[_handler])

SCRIPT = [
    ("ada", "hello"),
    ("bob", "hi"),
    ("ada", "me again"),
    ("cy", "hey"),  # three instances: allowed, the limit check is '>'
    ("dee", "evening"),  # a fourth: the least recently used (bob) is evicted
    ("bob", "it's me, bob"),  # a fresh bob (count restarts), evicting ada, now the LRU
    ("ada", "still there?"),  # ada's count restarts too; cy goes
    ("dee", "crash"),  # the application fails: the checker reports and removes it
    ("ada", "bye"),  # the application returns: the checker removes it
]


async def bot(*, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """One instance per user: counts the user's messages, so eviction is visible."""
    count = 0
    while True:
        message = await receive()
        count += 1
        text = message["text"]
        if text == "crash":
            raise RuntimeError(f"{scope['user']} found a bug")
        await send({"type": "chat.reply", "text": f"message #{count} from you: {text!r}"})
        if text == "bye":
            return


class ChatServer(StatelessServer):
    application_checker_interval = 0.01

    def __init__(self, application: Any, transport: list[tuple[str, str]]) -> None:
        super().__init__(application, max_applications=2)
        self.transport = transport
        self.replies: asyncio.Queue[str] = asyncio.Queue()

    async def handle(self) -> None:
        print(f"serving in thread {threading.current_thread().name!r}")
        for user, text in self.transport:
            queue = self.get_or_create_application_instance(user, {"type": "chat", "user": user})
            await queue.put({"type": "chat.message", "text": text})
            if text == "crash":
                await self.wait_for(lambda u=user: u not in self.application_instances)
            else:
                print(f"  {user:>4}: {text!r:<16} -> {await self.replies.get()}")
            if text == "bye":
                await self.wait_for(lambda u=user: u not in self.application_instances)
            print(f"        running instances: {sorted(self.application_instances)}")

    def delete_oldest_application_instance(self) -> None:
        oldest = min(self.application_instances.items(), key=lambda item: item[1]["last_used"])
        print(f"        evicting {oldest[0]}, the least recently used instance")
        super().delete_oldest_application_instance()

    async def application_send(self, scope: Any, message: Any) -> None:
        await self.replies.put(message["text"])

    async def application_exception(
        self, exception: BaseException, application_details: dict[str, Any]
    ) -> None:
        user = application_details["scope"]["user"]
        print(f"  checker: {user}'s instance failed with {exception!r}")
        await super().application_exception(exception, application_details)

    async def wait_for(self, condition: Any) -> None:
        # The checker runs every application_checker_interval; give it a bounded while.
        for _ in range(500):
            if condition():
                return
            await asyncio.sleep(self.application_checker_interval)
        raise RuntimeError("the checker did not get there in time")


def main() -> None:
    server = ChatServer(bot, SCRIPT)
    print(f"max_applications={server.max_applications}: up to 3 instances (the limit is '>')")
    # run() uses asyncio.run, so it also works in a thread that has no event loop.
    worker = threading.Thread(target=server.run, name="chat-server")
    worker.start()
    worker.join(30)
    print("run() returned; instances left:", sorted(server.application_instances))


if __name__ == "__main__":
    main()
