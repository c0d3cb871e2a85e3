"""The chat room, twice (sync and async consumer), and the background task consumer.

A client sends ``{"s": sender, "n": seq, "task": bool}``. A plain message is broadcast to
the room by the consumer itself (path "room"); a task goes to the background channel,
where one of the runworker processes broadcasts it (path "worker", with its pid).
"""

from __future__ import annotations

import json
import os
from typing import Any

from asgiref.sync import async_to_sync
from channels.consumer import SyncConsumer
from channels.generic.websocket import AsyncWebsocketConsumer, WebsocketConsumer

TASK_CHANNEL = "chat-tasks"


def _room_group(scope: dict[str, Any]) -> str:
    return "room-" + str(scope["url_route"]["kwargs"]["room"])


def _outgoing(event: dict[str, Any]) -> str:
    return json.dumps({**event["body"], "via": event["via"], "w": event.get("worker")})


class SyncRoomConsumer(WebsocketConsumer):
    """The Channels tutorial's shape: every channel-layer call through async_to_sync."""

    def connect(self) -> None:
        self.room = _room_group(self.scope)
        async_to_sync(self.channel_layer.group_add)(self.room, self.channel_name)
        self.accept()

    def disconnect(self, code: int) -> None:
        async_to_sync(self.channel_layer.group_discard)(self.room, self.channel_name)

    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        body = json.loads(text_data or "{}")
        if body.get("task"):
            async_to_sync(self.channel_layer.send)(
                TASK_CHANNEL, {"type": "room.task", "room": self.room, "body": body}
            )
        else:
            async_to_sync(self.channel_layer.group_send)(
                self.room, {"type": "chat.message", "body": body, "via": "room"}
            )

    def chat_message(self, event: dict[str, Any]) -> None:
        self.send(text_data=_outgoing(event))


class AsyncRoomConsumer(AsyncWebsocketConsumer):
    """The same room with async handlers: no asgiref bridge on the message path."""

    async def connect(self) -> None:
        self.room = _room_group(self.scope)
        await self.channel_layer.group_add(self.room, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.room, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        body = json.loads(text_data or "{}")
        if body.get("task"):
            await self.channel_layer.send(
                TASK_CHANNEL, {"type": "room.task", "room": self.room, "body": body}
            )
        else:
            await self.channel_layer.group_send(
                self.room, {"type": "chat.message", "body": body, "via": "room"}
            )

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=_outgoing(event))


class TaskConsumer(SyncConsumer):
    """Runs in the runworker processes (a StatelessServer): sync, like most task code."""

    def room_task(self, event: dict[str, Any]) -> None:
        async_to_sync(self.channel_layer.group_send)(
            event["room"],
            {"type": "chat.message", "body": event["body"], "via": "worker", "worker": os.getpid()},
        )
