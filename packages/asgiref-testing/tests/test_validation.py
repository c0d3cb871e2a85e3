"""validate=True: every rule of 80-asgi-protocol.md, each broken by a deliberately bad app."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from typing import Any, cast

import anyio
import pytest
from asgiref.testing import ApplicationCommunicator, ProtocolViolation

pytestmark = pytest.mark.anyio

Receive = Any
Send = Any

ASGI = {"version": "3.0", "spec_version": "2.5"}


def http_scope(**extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": dict(ASGI),
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    scope.update(extra)
    return scope


def websocket_scope(**extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "websocket",
        "asgi": dict(ASGI),
        "path": "/ws",
        "query_string": b"",
        "headers": [],
        "subprotocols": ["chat", "superchat"],
    }
    scope.update(extra)
    return scope


def lifespan_scope() -> dict[str, Any]:
    return {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}


def extensions(*names: str) -> dict[str, dict[object, object]]:
    return {name: {} for name in names}


# A script is what the application does, in order: ("receive",) awaits one input message,
# ("send", message) sends one.
Step = tuple[Any, ...]
RECEIVE: Step = ("receive",)


def send(**message: Any) -> Step:
    return ("send", message)


def scripted(steps: Sequence[Step]) -> Any:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        for step in steps:
            if step[0] == "receive":
                await receive()
            else:
                await send(step[1])

    return app


START = send(type="http.response.start", status=200, headers=[(b"content-type", b"text/plain")])
FINAL = send(type="http.response.body", body=b"done")
ACCEPT = send(type="websocket.accept")


# (id, scope, inputs fed to the app, script, index of the bad message, exact rule text)
CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]], list[Step], int, str]] = [
    # ---- core
    (
        "not a dict",
        http_scope(),
        [],
        [("send", ["http.response.start"])],
        1,
        "messages must be dicts, got list ['http.response.start']",
    ),
    ("no type", http_scope(), [], [send(status=200)], 1, "the message has no 'type' key"),
    (
        "type not str",
        http_scope(),
        [],
        [("send", {"type": 5})],
        1,
        "'type' must be a str, got int 5",
    ),
    (
        "non-str key",
        http_scope(),
        [],
        [START, ("send", {"type": "http.response.body", 1: b""})],
        2,
        "the message has the non-str key 1; ASGI dict keys are str",
    ),
    (
        "set value",
        http_scope(),
        [],
        [START, send(type="http.response.body", body=b"", extra={1, 2})],
        2,
        "the message['extra'] is a set, which is not an ASGI value type",
    ),
    (
        "int too big",
        http_scope(),
        [],
        [START, send(type="http.response.body", extra=2**63)],
        2,
        f"the message['extra'] is {2**63}, outside the signed 64-bit range ASGI allows",
    ),
    (
        "nan",
        http_scope(),
        [],
        [START, send(type="http.response.body", extra=[math.nan])],
        2,
        "the message['extra'][0] is nan; ASGI floats must be finite",
    ),
    # ---- HTTP
    (
        "unknown http type",
        http_scope(),
        [],
        [send(type="http.response.begin", status=200)],
        1,
        (
            "'http.response.begin' is not a message an application may send on an HTTP connection"
            " (expected 'http.response.start' or 'http.response.body')"
        ),
    ),
    (
        "body before start",
        http_scope(),
        [],
        [FINAL],
        1,
        "'http.response.body' before 'http.response.start'",
    ),
    (
        "missing status",
        http_scope(),
        [],
        [send(type="http.response.start")],
        1,
        "'status' is required",
    ),
    (
        "status not int",
        http_scope(),
        [],
        [send(type="http.response.start", status="200")],
        1,
        "'status' must be an int, got str '200'",
    ),
    (
        "status bool",
        http_scope(),
        [],
        [send(type="http.response.start", status=True)],
        1,
        "'status' must be an int, got bool True",
    ),
    (
        "status out of range",
        http_scope(),
        [],
        [send(type="http.response.start", status=42)],
        1,
        "'status' must be an HTTP status code from 100 to 599, got 42",
    ),
    (
        "headers not a list",
        http_scope(),
        [],
        [send(type="http.response.start", status=200, headers={"a": b"b"})],
        1,
        "'headers' must be a list of [name, value] byte-string pairs, got dict",
    ),
    (
        "headers bytes keys",
        http_scope(),
        [],
        [send(type="http.response.start", status=200, headers={b"a": b"b"})],
        1,
        "the message['headers'] has the non-str key b'a'; ASGI dict keys are str",
    ),
    (
        "header not bytes",
        http_scope(),
        [],
        [send(type="http.response.start", status=200, headers=[("content-type", "text/plain")])],
        1,
        (
            "'headers'[0] must be a [name, value] pair of byte strings, got"
            " ('content-type', 'text/plain')"
        ),
    ),
    (
        "header not a pair",
        http_scope(),
        [],
        [send(type="http.response.start", status=200, headers=[[b"a", b"b", b"c"]])],
        1,
        "'headers'[0] must be a [name, value] pair of byte strings, got [b'a', b'b', b'c']",
    ),
    (
        "header upper-case",
        http_scope(),
        [],
        [send(type="http.response.start", status=200, headers=[(b"Content-Type", b"x")])],
        1,
        "response header names must be lower-case: 'headers'[0] is b'Content-Type'",
    ),
    (
        "start twice",
        http_scope(),
        [],
        [START, START],
        2,
        "'http.response.start' was already sent for this response",
    ),
    (
        "body not bytes",
        http_scope(),
        [],
        [START, send(type="http.response.body", body="text")],
        2,
        "'body' must be bytes, got str 'text'",
    ),
    (
        "more_body not bool",
        http_scope(),
        [],
        [START, send(type="http.response.body", body=b"", more_body=1)],
        2,
        "'more_body' must be a bool, got int 1",
    ),
    (
        "after completion",
        http_scope(),
        [],
        [START, FINAL, send(type="http.response.body", body=b"late")],
        3,
        (
            "the response is already complete: nothing may be sent after the final"
            " body (more_body=False)"
        ),
    ),
    (
        "trailers flag without extension",
        http_scope(),
        [],
        [send(type="http.response.start", status=200, trailers=True)],
        1,
        (
            "trailers=True needs the 'http.response.trailers' extension, which"
            " scope['extensions'] does not advertise"
        ),
    ),
    (
        "trailers without extension",
        http_scope(),
        [],
        [START, FINAL, send(type="http.response.trailers", headers=[])],
        3,
        (
            "the response is already complete: nothing may be sent after the final"
            " body (more_body=False)"
        ),
    ),
    (
        "trailers not announced",
        http_scope(extensions=extensions("http.response.trailers")),
        [],
        [
            START,
            send(type="http.response.body", more_body=True),
            send(type="http.response.trailers", headers=[]),
        ],
        3,
        "'http.response.trailers' but 'http.response.start' did not set trailers=True",
    ),
    (
        "trailers before final body",
        http_scope(extensions=extensions("http.response.trailers")),
        [],
        [
            send(type="http.response.start", status=200, trailers=True),
            send(type="http.response.body", more_body=True),
            send(type="http.response.trailers", headers=[]),
        ],
        3,
        "'http.response.trailers' before the final body (more_body=False)",
    ),
    (
        "body after final body with trailers pending",
        http_scope(extensions=extensions("http.response.trailers")),
        [],
        [send(type="http.response.start", status=200, trailers=True), FINAL, FINAL],
        3,
        "'http.response.body' after the final body; only 'http.response.trailers' may follow",
    ),
    (
        "trailer header upper-case",
        http_scope(extensions=extensions("http.response.trailers")),
        [],
        [
            send(type="http.response.start", status=200, trailers=True),
            FINAL,
            send(type="http.response.trailers", headers=[(b"X-Checksum", b"1")]),
        ],
        3,
        "response header names must be lower-case: 'headers'[0] is b'X-Checksum'",
    ),
    (
        "pathsend without extension",
        http_scope(),
        [],
        [START, send(type="http.response.pathsend", path="/etc/hosts")],
        2,
        (
            "'http.response.pathsend' needs the 'http.response.pathsend'"
            " extension, which scope['extensions'] does not advertise"
        ),
    ),
    (
        "pathsend relative",
        http_scope(extensions=extensions("http.response.pathsend")),
        [],
        [START, send(type="http.response.pathsend", path="relative/file")],
        2,
        "'path' must be an absolute path, got 'relative/file'",
    ),
    (
        "pathsend after body",
        http_scope(extensions=extensions("http.response.pathsend")),
        [],
        [
            START,
            send(type="http.response.body", body=b"a", more_body=True),
            send(type="http.response.pathsend", path="/f"),
        ],
        3,
        "'http.response.pathsend' replaces the body, but body messages were already sent",
    ),
    (
        "pathsend completes",
        http_scope(extensions=extensions("http.response.pathsend")),
        [],
        [START, send(type="http.response.pathsend", path="/f"), FINAL],
        3,
        (
            "the response is already complete: nothing may be sent after the final"
            " body (more_body=False)"
        ),
    ),
    (
        "push before start",
        http_scope(extensions=extensions("http.response.push")),
        [],
        [send(type="http.response.push", path="/style.css", headers=[])],
        1,
        "'http.response.push' before 'http.response.start'",
    ),
    (
        "push path missing",
        http_scope(extensions=extensions("http.response.push")),
        [],
        [START, send(type="http.response.push", headers=[])],
        2,
        "'path' is required",
    ),
    (
        "early hint links",
        http_scope(extensions=extensions("http.response.early_hint")),
        [],
        [START, send(type="http.response.early_hint", links=["</style.css>; rel=preload"])],
        2,
        "'links' must be a list of byte strings, got ['</style.css>; rel=preload']",
    ),
    (
        "debug after start",
        http_scope(extensions=extensions("http.response.debug")),
        [],
        [START, send(type="http.response.debug", info={})],
        2,
        "'http.response.debug' must come before 'http.response.start'",
    ),
    (
        "debug twice",
        http_scope(extensions=extensions("http.response.debug")),
        [],
        [send(type="http.response.debug", info={}), send(type="http.response.debug", info={})],
        2,
        "'http.response.debug' may be sent only once",
    ),
    (
        "zerocopysend file",
        http_scope(extensions=extensions("http.response.zerocopysend")),
        [],
        [START, send(type="http.response.zerocopysend", file="not a file")],
        2,
        "'file' must be a file object, got str 'not a file'",
    ),
    # ---- WebSocket
    (
        "unknown websocket type",
        websocket_scope(),
        [{"type": "websocket.connect"}],
        [RECEIVE, send(type="websocket.message", text="hi")],
        1,
        (
            "'websocket.message' is not a message an application may send on a WebSocket"
            " (expected 'websocket.accept', 'websocket.send' or 'websocket.close')"
        ),
    ),
    (
        "accept before connect",
        websocket_scope(),
        [],
        [ACCEPT],
        1,
        "'websocket.accept' before the application received 'websocket.connect'",
    ),
    (
        "send before accept",
        websocket_scope(),
        [{"type": "websocket.connect"}],
        [RECEIVE, send(type="websocket.send", text="hi")],
        1,
        "'websocket.send' before 'websocket.accept'",
    ),
    (
        "accept twice",
        websocket_scope(),
        [{"type": "websocket.connect"}],
        [RECEIVE, ACCEPT, ACCEPT],
        2,
        "'websocket.accept' was already sent",
    ),
    (
        "subprotocol not offered",
        websocket_scope(),
        [{"type": "websocket.connect"}],
        [RECEIVE, send(type="websocket.accept", subprotocol="graphql")],
        1,
        (
            "subprotocol 'graphql' was not offered by the client"
            " (scope['subprotocols'] is ['chat', 'superchat'])"
        ),
    ),
    (
        "subprotocol header",
        websocket_scope(),
        [{"type": "websocket.connect"}],
        [RECEIVE, send(type="websocket.accept", headers=[(b"sec-websocket-protocol", b"chat")])],
        1,
        "'headers' must not contain sec-websocket-protocol; set 'subprotocol' instead",
    ),
    (
        "accept headers on spec 2.0",
        websocket_scope(asgi={"version": "3.0", "spec_version": "2.0"}),
        [{"type": "websocket.connect"}],
        [RECEIVE, send(type="websocket.accept", headers=[(b"x-a", b"1")])],
        1,
        "'headers' on 'websocket.accept' needs ASGI spec_version 2.1 or later",
    ),
    (
        "both text and bytes",
        websocket_scope(),
        [{"type": "websocket.connect"}],
        [RECEIVE, ACCEPT, send(type="websocket.send", text="a", bytes=b"a")],
        2,
        "exactly one of 'bytes' and 'text' must be set (not None), got bytes and text",
    ),
    (
        "neither text nor bytes",
        websocket_scope(),
        [{"type": "websocket.connect"}],
        [RECEIVE, ACCEPT, send(type="websocket.send", text=None)],
        2,
        "exactly one of 'bytes' and 'text' must be set (not None), got neither",
    ),
    (
        "text not str",
        websocket_scope(),
        [{"type": "websocket.connect"}],
        [RECEIVE, ACCEPT, send(type="websocket.send", text=b"bytes in text")],
        2,
        "'text' must be a str or None, got bytes b'bytes in text'",
    ),
    (
        "close code not int",
        websocket_scope(),
        [{"type": "websocket.connect"}],
        [RECEIVE, ACCEPT, send(type="websocket.close", code="1000")],
        2,
        "'code' must be an int, got str '1000'",
    ),
    (
        "close reason on spec 2.2",
        websocket_scope(asgi={"version": "3.0", "spec_version": "2.2"}),
        [{"type": "websocket.connect"}],
        [RECEIVE, ACCEPT, send(type="websocket.close", reason="bye")],
        2,
        "'reason' on 'websocket.close' needs ASGI spec_version 2.3 or later",
    ),
    (
        "send after close",
        websocket_scope(),
        [{"type": "websocket.connect"}],
        [RECEIVE, ACCEPT, send(type="websocket.close"), send(type="websocket.send", text="late")],
        3,
        "the WebSocket is already closed by 'websocket.close'; nothing may follow it",
    ),
    (
        "denial without extension",
        websocket_scope(),
        [{"type": "websocket.connect"}],
        [RECEIVE, send(type="websocket.http.response.start", status=403)],
        1,
        (
            "'websocket.http.response.start' needs the 'websocket.http.response' extension,"
            " which scope['extensions'] does not advertise"
        ),
    ),
    (
        "denial after accept",
        websocket_scope(extensions=extensions("websocket.http.response")),
        [{"type": "websocket.connect"}],
        [RECEIVE, ACCEPT, send(type="websocket.http.response.start", status=403)],
        2,
        "'websocket.http.response.start' after 'websocket.accept'",
    ),
    (
        "denial body first",
        websocket_scope(extensions=extensions("websocket.http.response")),
        [{"type": "websocket.connect"}],
        [RECEIVE, send(type="websocket.http.response.body", body=b"")],
        1,
        "'websocket.http.response.body' before 'websocket.http.response.start'",
    ),
    (
        "after denial",
        websocket_scope(extensions=extensions("websocket.http.response")),
        [{"type": "websocket.connect"}],
        [
            RECEIVE,
            send(type="websocket.http.response.start", status=403),
            send(type="websocket.http.response.body"),
            ACCEPT,
        ],
        3,
        "the denial response is complete; nothing may follow it",
    ),
    # ---- lifespan
    (
        "startup answered early",
        lifespan_scope(),
        [],
        [send(type="lifespan.startup.complete")],
        1,
        "'lifespan.startup.complete' before the application received 'lifespan.startup'",
    ),
    (
        "startup answered twice",
        lifespan_scope(),
        [{"type": "lifespan.startup"}],
        [
            RECEIVE,
            send(type="lifespan.startup.complete"),
            send(type="lifespan.startup.failed", message="x"),
        ],
        2,
        "startup was already answered; send one of complete or failed, once",
    ),
    (
        "shutdown answered early",
        lifespan_scope(),
        [{"type": "lifespan.startup"}],
        [RECEIVE, send(type="lifespan.startup.complete"), send(type="lifespan.shutdown.complete")],
        2,
        "'lifespan.shutdown.complete' before the application received 'lifespan.shutdown'",
    ),
    (
        "failure message not str",
        lifespan_scope(),
        [{"type": "lifespan.startup"}],
        [RECEIVE, send(type="lifespan.startup.failed", message=b"bytes")],
        1,
        "'message' must be a str, got bytes b'bytes'",
    ),
    (
        "unknown lifespan type",
        lifespan_scope(),
        [{"type": "lifespan.startup"}],
        [RECEIVE, send(type="lifespan.ready")],
        1,
        "'lifespan.ready' is not a message an application may send in the lifespan protocol",
    ),
]


@pytest.mark.parametrize(
    ("scope", "inputs", "script", "index", "rule"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
async def test_each_rule_is_enforced(
    scope: dict[str, Any], inputs: list[dict[str, Any]], script: list[Step], index: int, rule: str
) -> None:
    communicator = ApplicationCommunicator(scripted(script), scope, validate=True)
    for message in inputs:
        await communicator.send_input(message)
    with pytest.raises(ProtocolViolation) as caught:
        # Valid messages before the bad one are not what the test is about: the
        # violation must surface at once, from the very first call.
        await communicator.receive_output()
    violation = caught.value
    assert violation.index == index
    assert violation.rule == rule
    bad: object = [step for step in script if step[0] == "send"][index - 1][1]
    expected_type = cast("dict[str, object]", bad).get("type") if isinstance(bad, dict) else None
    assert violation.message_type == (expected_type if isinstance(expected_type, str) else None)
    prefix = f"ASGI message #{index} sent by the application"
    if violation.message_type is not None:
        prefix += f" ({violation.message_type!r})"
    assert str(violation) == f"{prefix}: {rule}"
    assert isinstance(violation, AssertionError)


async def test_the_violation_is_raised_inside_the_application_too() -> None:
    raised: list[BaseException] = []

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.body", "body": b"too early"})
        except ProtocolViolation as violation:
            raised.append(violation)
        await receive()

    communicator = ApplicationCommunicator(app, http_scope(), validate=True)
    # The application swallows the error, yet the test still fails at once: a waiting
    # receive_output is woken rather than left to run into its timeout.
    with pytest.raises(ProtocolViolation, match=r"before 'http.response.start'") as caught:
        await communicator.receive_output(timeout=30)
    assert raised == [caught.value]
    for call in (
        communicator.receive_output(),
        communicator.receive_nothing(),
        communicator.send_input({}),
    ):
        with pytest.raises(ProtocolViolation):
            await call
    communicator.stop()


async def test_messages_after_a_violation_are_still_rejected() -> None:
    results: list[str] = []

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        for message in ({"type": "http.response.body"}, {"type": "http.response.body"}):
            try:
                await send(message)
            except ProtocolViolation as violation:
                results.append(str(violation))

    communicator = ApplicationCommunicator(app, http_scope(), validate=True)
    with pytest.raises(ProtocolViolation) as caught:
        await communicator.wait()
    assert len(results) == 2
    assert results[0] == str(caught.value)
    assert results[1].startswith("ASGI message #2 ")


async def test_validation_is_off_by_default() -> None:
    communicator = ApplicationCommunicator(scripted([FINAL, START]), http_scope())
    assert (await communicator.receive_output())["type"] == "http.response.body"
    assert (await communicator.receive_output())["type"] == "http.response.start"


def test_positional_arguments_are_unchanged() -> None:
    # Channels calls super().__init__(application, scope): validate is keyword-only.
    with pytest.raises(TypeError):
        ApplicationCommunicator(scripted([]), http_scope(), True)  # type: ignore[call-arg]


# --------------------------------------------------------------------------- valid apps pass


VALID: list[tuple[str, dict[str, Any], list[dict[str, Any]], list[Step]]] = [
    (
        "minimal http",
        http_scope(),
        [],
        [send(type="http.response.start", status=204), send(type="http.response.body")],
    ),
    (
        "streamed http",
        http_scope(),
        [],
        [
            START,
            send(type="http.response.body", body=b"a", more_body=True),
            send(type="http.response.body", body=b"b", more_body=True),
            send(type="http.response.body", body=b""),
        ],
    ),
    (
        "tuples and extra keys",
        http_scope(),
        [],
        [
            send(
                type="http.response.start",
                status=599,
                headers=((b"x-a", b"1"),),
                vendor_extra={"k": [1.5, None, True]},
            ),
            send(type="http.response.body", body=b"", more_body=False),
        ],
    ),
    (
        "every http extension",
        http_scope(
            extensions=extensions(
                "http.response.debug",
                "http.response.push",
                "http.response.early_hint",
                "http.response.trailers",
                "http.response.zerocopysend",
            )
        ),
        [],
        [
            send(type="http.response.debug", info={"template": "x.html"}),
            send(type="http.response.start", status=200, trailers=True),
            send(type="http.response.push", path="/app.js", headers=[(b"accept", b"*/*")]),
            send(type="http.response.early_hint", links=[b"</app.js>; rel=preload"]),
            send(type="http.response.body", body=b"a", more_body=True),
            ("zerocopy",),
            send(type="http.response.trailers", headers=[(b"x-sum", b"1")], more_trailers=True),
            send(type="http.response.trailers", headers=[]),
        ],
    ),
    (
        "pathsend",
        http_scope(extensions=extensions("http.response.pathsend")),
        [],
        [START, send(type="http.response.pathsend", path="/srv/file.txt")],
    ),
    (
        "websocket conversation",
        websocket_scope(),
        [{"type": "websocket.connect"}],
        [
            RECEIVE,
            send(type="websocket.accept", subprotocol="chat", headers=[(b"x-a", b"1")]),
            send(type="websocket.send", text="hi"),
            send(type="websocket.send", bytes=b"\x00", text=None),
            send(type="websocket.close", code=4000, reason="bye"),
        ],
    ),
    ("websocket closed before connect", websocket_scope(), [], [send(type="websocket.close")]),
    (
        "websocket denial response",
        websocket_scope(extensions=extensions("websocket.http.response")),
        [{"type": "websocket.connect"}],
        [
            RECEIVE,
            send(type="websocket.http.response.start", status=401, headers=[]),
            send(type="websocket.http.response.body", body=b"no", more_body=True),
            send(type="websocket.http.response.body", body=b"pe"),
        ],
    ),
    (
        "lifespan",
        lifespan_scope(),
        [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}],
        [
            RECEIVE,
            send(type="lifespan.startup.complete"),
            RECEIVE,
            send(type="lifespan.shutdown.failed", message="x"),
        ],
    ),
    (
        "custom protocol",
        {"type": "channel", "channel": "a"},
        [],
        [send(type="anything.goes", data=[1, "two"])],
    ),
]


@pytest.mark.parametrize(
    ("scope", "inputs", "script"), [pytest.param(*case[1:], id=case[0]) for case in VALID]
)
async def test_valid_applications_pass(
    scope: dict[str, Any], inputs: list[dict[str, Any]], script: list[Step]
) -> None:
    with tempfile.TemporaryFile() as file:
        steps = [
            send(type="http.response.zerocopysend", file=file, offset=0, count=None)
            if step == ("zerocopy",)
            else step
            for step in script
        ]
        communicator = ApplicationCommunicator(scripted(steps), scope, validate=True)
        for message in inputs:
            await communicator.send_input(message)
        await communicator.wait()
        sent = sum(1 for step in steps if step[0] == "send")
        assert communicator.output_queue.qsize() == sent


# --------------------------------------------------------------------------- scopes


BAD_SCOPES: list[tuple[str, Any, str]] = [
    ("not a dict", [("type", "http")], "a scope must be a dict, got list"),
    ("no type", {"path": "/"}, "'type' is required"),
    ("asgi not dict", http_scope(asgi="3.0"), "'asgi' must be a dict, got str"),
    ("asgi version missing", http_scope(asgi={"spec_version": "2.3"}), "'version' is required"),
    (
        "http_version",
        http_scope(http_version="1.2"),
        "'http_version' must be one of '1.0', '1.1', '2', '3', got '1.2'",
    ),
    (
        "method lower",
        http_scope(method="get"),
        "'method' must be an upper-case HTTP token, got 'get'",
    ),
    (
        "method missing",
        {k: v for k, v in http_scope().items() if k != "method"},
        "'method' is required",
    ),
    ("scheme empty", http_scope(scheme=""), "'scheme' must be a non-empty str, got str ''"),
    ("path bytes", http_scope(path=b"/"), "'path' must be a str, got bytes b'/'"),
    ("raw_path str", http_scope(raw_path="/"), "'raw_path' must be bytes or None, got str '/'"),
    ("query str", http_scope(query_string="a=1"), "'query_string' must be bytes, got str 'a=1'"),
    (
        "headers str",
        http_scope(headers=[("host", "x")]),
        "'headers'[0] must be a [name, value] pair of byte strings, got ('host', 'x')",
    ),
    (
        "client port str",
        http_scope(client=("1.2.3.4", "80")),
        "'client' must be a [host, port] pair (str, int) or None, got ('1.2.3.4', '80')",
    ),
    (
        "server unix socket ok but port bool",
        http_scope(server=("/tmp/sock", True)),
        "'server' must be a [host, port] pair (str, int or None) or None, got ('/tmp/sock', True)",
    ),
    ("state not dict", http_scope(state=[]), "'state' must be a dict, got list []"),
    (
        "extensions values",
        http_scope(extensions={"tls": None}),
        "'extensions' must map extension names to dicts, got {'tls': None}",
    ),
    (
        "subprotocols",
        websocket_scope(subprotocols="chat"),
        "'subprotocols' must be a list of str, got 'chat'",
    ),
    (
        "ws query None ok but int not",
        websocket_scope(query_string=1),
        "'query_string' must be bytes or None, got int 1",
    ),
]


@pytest.mark.parametrize(
    ("scope", "rule"), [pytest.param(*case[1:], id=case[0]) for case in BAD_SCOPES]
)
def test_bad_scopes_are_rejected_at_construction(scope: Any, rule: str) -> None:
    with pytest.raises(ProtocolViolation) as caught:
        ApplicationCommunicator(scripted([]), scope, validate=True)
    assert str(caught.value) == f"invalid ASGI scope: {rule}"
    assert caught.value.index is None
    assert caught.value.message_type is None


def test_good_scopes_are_accepted() -> None:
    for scope in (
        http_scope(),
        http_scope(
            server=("/run/app.sock", None), client=None, raw_path=None, state={"db": object()}
        ),
        {
            k: v
            for k, v in http_scope().items()
            if k not in ("asgi", "scheme", "raw_path", "root_path", "client", "server")
        },
        websocket_scope(query_string=None, http_version="2"),
        lifespan_scope(),
        {"type": "channel", "channel": "x", "anything": object()},
    ):
        ApplicationCommunicator(scripted([]), scope, validate=True)


def test_bad_scope_is_not_checked_without_validation() -> None:
    ApplicationCommunicator(scripted([]), http_scope(method="get"))


async def test_violation_wakes_a_waiting_receiver_at_once() -> None:
    proceed = anyio.Event()

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await proceed.wait()
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"X", b"y")]})
        except ProtocolViolation:
            await anyio.sleep_forever()  # swallowed, and the app hangs on

    communicator = ApplicationCommunicator(app, http_scope(), validate=True)
    raised: list[ProtocolViolation] = []

    async def receive() -> None:
        try:
            await communicator.receive_output(timeout=30)
        except ProtocolViolation as violation:
            raised.append(violation)

    # Well before the receiver's own 30 s timeout.
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(receive)
            with anyio.fail_after(5):
                await anyio.wait_all_tasks_blocked()
            proceed.set()
    assert len(raised) == 1
    assert "lower-case" in str(raised[0])
    communicator.stop()


# --------------------------------------------------------------------------- returning early


RETURNS: list[tuple[str, dict[str, Any], list[dict[str, Any]], list[Step], str]] = [
    (
        "http without a response",
        http_scope(),
        [{"type": "http.request"}],
        [RECEIVE],
        (
            "the application returned without sending 'http.response.start';"
            " the response is incomplete (after 0 messages)"
        ),
    ),
    (
        "http without the final body",
        http_scope(),
        [],
        [START, send(type="http.response.body", body=b"part", more_body=True)],
        (
            "the application returned before the final 'http.response.body' (more_body=False);"
            " the response is incomplete (after 2 messages)"
        ),
    ),
    (
        "http without the trailers",
        http_scope(extensions=extensions("http.response.trailers")),
        [],
        [send(type="http.response.start", status=200, trailers=True), FINAL],
        (
            "the application returned before the last 'http.response.trailers'"
            " (more_trailers=False); the response is incomplete (after 2 messages)"
        ),
    ),
    (
        "websocket handshake unanswered",
        websocket_scope(),
        [{"type": "websocket.connect"}],
        [RECEIVE],
        (
            "the application returned without accepting or closing the WebSocket"
            " (send 'websocket.accept' or 'websocket.close') (after 0 messages)"
        ),
    ),
    (
        "websocket denial unfinished",
        websocket_scope(extensions=extensions("websocket.http.response")),
        [{"type": "websocket.connect"}],
        [RECEIVE, send(type="websocket.http.response.start", status=403)],
        (
            "the application returned before the final 'websocket.http.response.body'"
            " (more_body=False) (after 1 message)"
        ),
    ),
]


@pytest.mark.parametrize(
    ("scope", "inputs", "script", "rule"),
    [pytest.param(*case[1:], id=case[0]) for case in RETURNS],
)
async def test_returning_with_the_protocol_unfinished(
    scope: dict[str, Any], inputs: list[dict[str, Any]], script: list[Step], rule: str
) -> None:
    communicator = ApplicationCommunicator(scripted(script), scope, validate=True)
    for message in inputs:
        await communicator.send_input(message)
    # Raised at once, not after the (long) timeout, and before any queued output.
    with anyio.fail_after(5), pytest.raises(ProtocolViolation) as caught:
        await communicator.receive_output(timeout=30)
    assert str(caught.value) == f"ASGI protocol violation: {rule}"
    assert caught.value.index is None
    with pytest.raises(ProtocolViolation):
        await communicator.wait()


@pytest.mark.parametrize(
    ("scope", "inputs", "script"),
    [
        pytest.param(
            http_scope(),
            [{"type": "http.request"}, {"type": "http.disconnect"}],
            [RECEIVE, START, RECEIVE],
            id="http response cut short",
        ),
        pytest.param(
            websocket_scope(),
            [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1001}],
            [RECEIVE, RECEIVE],
            id="websocket handshake abandoned",
        ),
        pytest.param(websocket_scope(), [], [], id="websocket never connected"),
        pytest.param(lifespan_scope(), [{"type": "lifespan.startup"}], [RECEIVE], id="lifespan"),
    ],
)
async def test_returning_early_is_fine_when_the_client_left(
    scope: dict[str, Any], inputs: list[dict[str, Any]], script: list[Step]
) -> None:
    communicator = ApplicationCommunicator(scripted(script), scope, validate=True)
    for message in inputs:
        await communicator.send_input(message)
    await communicator.wait()
    assert communicator.future.done()


async def test_unfinished_protocol_is_not_checked_without_validation() -> None:
    communicator = ApplicationCommunicator(scripted([START]), http_scope())
    assert (await communicator.receive_output())["type"] == "http.response.start"
    await communicator.wait()
