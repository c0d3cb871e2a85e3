"""One side's run: start the site, load it, break it, check it recovers, check it is clean.

Phases (each with its own traffic, so each fault's loss is counted on its own):
``warmup`` and ``load`` (no fault), ``worker-kill``, ``redis-restart``, ``drop-clients``
(faults), ``after-faults`` (no fault again: proves the site fully recovered). A soak
repeats load cycles with the same faults now and then, sampling memory and threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import redis_server
from .clients import Member, Room, now
from .ledger import Ledger, PhaseReport
from .procs import Hang, Proc, Registry, Sample, free_port, sample
from .site import Side, Site, check_proof, identity_of

CLEAN_PHASES = ("warmup", "load", "after-faults")
FAULT_PHASES = ("worker-kill", "drop-clients", "redis-restart")
# After a Redis restart, consumers keep crashing for a while as each dead pooled connection is
# drawn: this phase measures those aftershocks (loss counted, not failed) before after-faults.
AFTERSHOCK_PHASE = "aftershocks"
# (route, server) of each room; "both" spreads a room's members over Daphne and uvicorn.
ROOM_KINDS = ("sync@daphne", "sync@daphne", "async@daphne", "async@uvicorn", "async@both")


@dataclass
class Config:
    members_per_room: int = 4
    load_messages: int = 60  # per member, in the load phase
    task_every: int = 5  # every 5th message goes through the background workers
    window: int = 2
    echo_timeout: float = 3.0
    fault_lead: float = 1.5  # traffic before the fault strikes
    fault_tail: float = 1.5  # traffic after recovery, before the phase ends
    recovery_bound: float = 20.0
    aftershock_seconds: float = 3.0
    group_cleanup_bound: float = 5.0
    startup_bound: float = 60.0
    drain_bound: float = 8.0
    settle_bound: float = 20.0
    thread_slack: int = 2
    rss_slack_kib: int = 16 * 1024
    rss_slack_fraction: float = 0.25
    soak_seconds: float = 0.0
    sample_every: float = 30.0


@dataclass
class FaultResult:
    phase: str
    struck_at: float = 0.0
    recovered_after: float | None = None  # seconds from the fault to new messages flowing
    detail: dict[str, object] = field(default_factory=dict)


@dataclass
class SideResult:
    side: str
    proof: dict[str, dict[str, object]] = field(default_factory=dict)
    reports: dict[str, PhaseReport] = field(default_factory=dict)
    faults: dict[str, FaultResult] = field(default_factory=dict)
    baseline: dict[str, Sample] = field(default_factory=dict)
    idle_after_faults: dict[str, Sample] = field(default_factory=dict)
    after: dict[str, Sample] = field(default_factory=dict)
    timeline: list[tuple[float, dict[str, Sample]]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


class SideRun:
    def __init__(
        self,
        side: Side,
        config: Config,
        registry: Registry,
        *,
        redis_exe: str,
        work_dir: Path,
        wheel_dir: Path | None,
    ) -> None:
        self.side = side
        self.config = config
        self.registry = registry
        self.work_dir = work_dir
        self.wheel_dir = wheel_dir
        self.redis = redis_server.RedisServer(registry, redis_exe, work_dir / f"{side.name}-redis")
        self.ledger = Ledger()
        self.result = SideResult(side.name)
        self.rooms: list[Room] = []
        self.site: Site | None = None
        self._members = 0
        self._supervising = False

    # ------------------------------------------------------------------ helpers

    def _say(self, message: str) -> None:
        print(f"[{self.side.name}] {message}", flush=True)

    def _fail(self, message: str) -> None:
        self._say("FAIL: " + message)
        self.result.failures.append(message)

    def _members_all(self) -> list[Member]:
        return [m for room in self.rooms for m in room.members if not m.dropped]

    def _url(self, room: Room, index: int) -> str:
        assert self.site is not None
        route, server = room.kind.split("@")
        if server == "both":
            server = ("daphne", "uvicorn")[index % 2]
        port = self.site.daphne_port if server == "daphne" else self.site.uvicorn_port
        return f"ws://127.0.0.1:{port}/ws/{route}/{room.group}/"

    def _add_member(self, room: Room) -> Member:
        self._members += 1
        member = Member(f"c{self._members}", room, self._url(room, len(room.members)), self.ledger)
        member.start()
        return member

    async def _connect_all(self, members: list[Member]) -> None:
        results = await asyncio.gather(
            *(m.wait_connected(self.config.startup_bound) for m in members)
        )
        if not all(results):
            raise Hang(f"{results.count(False)} clients could not connect")

    async def _all_connected(self, phase: str) -> None:
        """Every member is connected before a phase starts (after a fault, reconnected)."""
        members = self._members_all()
        results = await asyncio.gather(
            *(m.wait_connected(self.config.recovery_bound) for m in members)
        )
        if not all(results):
            raise Hang(
                f"before {phase}: {results.count(False)} clients still not reconnected after "
                f"{self.config.recovery_bound:.0f} s"
            )

    def _connects(self) -> int:
        return sum(m.connects for room in self.rooms for m in room.members)

    async def _traffic(self, phase: str, *, count: int | None, until: float) -> None:
        self.ledger.set_arrival_phase(phase)
        await asyncio.gather(
            *(
                m.send_stream(
                    phase=phase,
                    count=count,
                    until=until,
                    task_every=self.config.task_every,
                    window=self.config.window,
                    echo_timeout=self.config.echo_timeout,
                )
                for m in self._members_all()
            )
        )

    async def _drain(self, phase: str) -> None:
        """Wait for the phase's deliveries: until none is missing, or none arrives for 2 s."""
        deadline = now() + self.config.drain_bound
        last = (self.ledger.missing(phase), now())
        while self.ledger.missing(phase) and now() < deadline:
            await asyncio.sleep(0.05)
            missing = self.ledger.missing(phase)
            if missing != last[0]:
                last = (missing, now())
            elif now() - last[1] > 2.0:
                break

    def _record(self, phase: str) -> PhaseReport:
        report = self.ledger.report(phase)
        self.result.reports[phase] = report
        clean = phase in CLEAN_PHASES or phase.startswith("soak-load")
        known = report.by_kind.get("duplicated", {}).get("worker", 0)
        line = (
            f"{phase}: sent {report.sent}, delivered {report.delivered}/"
            f"{report.expected_deliveries}, lost {report.lost} ({report.lost_messages} msgs), "
            f"dup {report.duplicated}, reordered {report.out_of_order}, "
            f"stray {report.unexpected + report.unknown}"
        )
        if report.by_kind:
            line += f"; by kind {report.by_kind}"
        if report.lost_by_recipient:
            worst = sorted(report.lost_by_recipient.items(), key=lambda kv: -kv[1])[:6]
            line += f"; most lost at {worst}"
        self._say(line)
        # Duplicates on the worker path are channels_redis's own (two receivers of one
        # channel share one in-flight backup queue; repro/two_receivers.py shows it without
        # Channels' consumers or asgiref's bridges): counted and reported, not failed on.
        if clean and report.errors - known:
            self._fail(f"no fault in {phase}, yet: {line}")
        self._dump_incomplete(phase)
        return report

    def _dump_incomplete(self, phase: str) -> None:
        """Every message of ``phase`` that missed someone, for the post-mortem."""
        lines = [
            f"{m.sent_at:.3f} {m.sender}:{m.seq} {m.kind} room={m.room} "
            f"missing={sorted(m.expected - m.arrivals.keys())}"
            for m in self.ledger.messages(phase)
            if not m.complete
        ]
        if lines:
            path = self.work_dir / f"incomplete-{self.side.name}-{phase}.txt"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _snapshot(self) -> dict[str, Sample]:
        assert self.site is not None
        out: dict[str, Sample] = {}
        for proc in self.site.processes():
            if proc.alive():
                got = sample(proc.pid)
                if got is not None:
                    out[proc.name] = got
        return out

    async def _supervise(self) -> None:
        """Act as systemd would: a worker that died (not killed by us) is started again."""
        assert self.site is not None
        while self._supervising:
            for proc in list(self.site.workers):
                if not proc.alive():
                    self.site.retire(proc)
                    replacement = self.site.start_worker()
                    note = (
                        f"{proc.name} exited by itself (code {proc.popen.returncode}); "
                        f"supervisor started {replacement.name}"
                    )
                    self.result.notes.append(note)
                    self._say(note)
            for server in (self.site.daphne, self.site.uvicorn):
                if server is not None and not server.alive():
                    self._fail(f"{server.name} died:\n{server.log_tail()}")
                    return
            await asyncio.sleep(0.25)

    # ------------------------------------------------------------------ phases

    async def _start(self) -> None:
        redis_port = free_port()
        self.redis.start(redis_port)
        self.site = Site(self.side, self.registry, redis_port)
        self.site.start_servers()
        for _ in range(2):
            self.site.start_worker()
        await asyncio.to_thread(self.site.wait_servers_listening, self.config.startup_bound)
        await self._check_proofs(self.site.processes())

    async def _check_proofs(self, procs: list[Proc]) -> None:
        deadline = now() + self.config.startup_bound
        for proc in procs:
            while identity_of(proc) is None:
                if not proc.alive() or now() > deadline:
                    raise Hang(f"{proc.name} never imported the site:\n{proc.log_tail()}")
                await asyncio.sleep(0.1)
            identity = identity_of(proc)
            assert identity is not None
            self.result.proof[proc.name] = identity
            problems = check_proof(self.side, identity, self.wheel_dir)
            if problems:
                raise RuntimeError(f"{proc.name} runs the wrong asgiref: {problems}")
        sync_files = sorted({str(i["sync_file"]) for i in self.result.proof.values()})
        self._say(f"asgiref proven in {len(procs)} processes: asgiref.sync from {sync_files}")

    async def _warmup(self) -> None:
        assert self.site is not None
        for index, kind in enumerate(ROOM_KINDS):
            self.rooms.append(Room(f"{kind.replace('@', '-')}-{index}", kind))
        for room in self.rooms:
            for _ in range(self.config.members_per_room):
                self._add_member(room)
        await self._connect_all(self._members_all())
        # Until both workers have handled a task: then every process is warm and ready.
        pids = {w.pid for w in self.site.workers}
        deadline = now() + self.config.startup_bound
        while not pids.issubset(self._worker_pids_seen()):
            if now() > deadline:
                raise Hang(f"workers {pids} never all handled a task")
            await self._traffic("warmup", count=6, until=deadline)
        await self._drain("warmup")
        self._record("warmup")
        await asyncio.sleep(1.0)
        self.result.baseline = self._snapshot()

    def _worker_pids_seen(self) -> set[int]:
        return {pid for m in self._members_all() for pid in m.worker_echoes}

    async def _load(self, phase: str, messages: int) -> None:
        await self._all_connected(phase)
        await self._traffic(phase, count=messages, until=now() + 120)
        await self._drain(phase)
        self._record(phase)

    async def _fault_phase(
        self, phase: str, strike: Callable[[FaultResult], Awaitable[tuple[float, list[str]]]]
    ) -> None:
        """Traffic; the fault strikes after the lead; run until recovery plus the tail."""
        stop = asyncio.Event()
        await self._all_connected(phase)
        fault = FaultResult(phase)
        self.result.faults[phase] = fault
        connects_before = self._connects()
        end = now() + self.config.fault_lead + self.config.recovery_bound + 30

        async def traffic() -> None:
            sender = asyncio.ensure_future(self._traffic(phase, count=None, until=end))
            await stop.wait()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

        runner = asyncio.ensure_future(traffic())
        try:
            await asyncio.sleep(self.config.fault_lead)
            fault.struck_at = now()
            since, paths = await strike(fault)
            rooms = [r.group for r in self.rooms]
            deadline = fault.struck_at + self.config.recovery_bound
            recovered: float | None = None
            while True:
                marks = [self.ledger.recovered_at(since=since, rooms=rooms, path=p) for p in paths]
                if all(m is not None for m in marks):
                    recovered = max(m for m in marks if m is not None)
                    break
                if now() > deadline:
                    break
                await asyncio.sleep(0.05)
            if recovered is None:
                self._fail(
                    f"{phase}: no new message flowed in every room within "
                    f"{self.config.recovery_bound:.0f} s of the fault"
                )
            else:
                fault.recovered_after = recovered - fault.struck_at
                self._say(f"{phase}: new messages flow {fault.recovered_after:.2f} s after it")
            await asyncio.sleep(self.config.fault_tail)
        finally:
            stop.set()
            await runner
        await self._drain(phase)
        report = self._record(phase)
        fault.detail["reconnects"] = self._connects() - connects_before
        fault.detail.update(
            lost=report.lost,
            lost_messages=report.lost_messages,
            duplicated=report.duplicated,
            reordered=report.out_of_order,
        )

    async def _kill_worker(self, fault: FaultResult) -> tuple[float, list[str]]:
        assert self.site is not None
        victim = self.site.workers[0]
        self.registry.kill9(victim)
        self.site.retire(victim)
        replacement = self.site.start_worker()
        self._say(f"kill -9 {victim.name} (pid {victim.pid}); started {replacement.name}")
        fault.detail.update(killed=victim.pid, replacement=replacement.pid)
        await self._check_proofs([replacement])
        # The replacement must take its share of the work, not just exist.
        deadline = now() + self.config.recovery_bound
        while replacement.pid not in self._worker_pids_seen():
            if now() > deadline:
                self._fail(f"{replacement.name} handled no task within the recovery bound")
                break
            await asyncio.sleep(0.05)
        else:
            fault.detail["replacement_first_task_after"] = round(now() - fault.struck_at, 2)
        return fault.struck_at, ["worker"]

    async def _restart_redis(self, fault: FaultResult) -> tuple[float, list[str]]:
        stopped_at, up_at = await asyncio.to_thread(self.redis.restart)
        fault.detail["redis_down_seconds"] = round(up_at - stopped_at, 2)
        self._say(f"redis restarted (down {up_at - stopped_at:.2f} s)")
        return up_at, ["room", "worker"]

    async def _drop_clients(self, fault: FaultResult) -> tuple[float, list[str]]:
        before = {r.group: redis_server.group_size(self.redis.port, r.group) for r in self.rooms}
        fault.detail["group_sizes_before"] = before
        victims = [room.members[0] for room in self.rooms if room.members]
        for member in victims:
            member.drop()
        fault.detail["dropped"] = len(victims)
        # The servers should notice the cut connections and take them out of their groups.
        # Reported, not failed on: uvicorn now and then keeps a cut member for longer (with
        # either asgiref; its websocket pings would find it after 20 s + 20 s).
        deadline = now() + self.config.group_cleanup_bound
        while True:
            sizes = {r.group: redis_server.group_size(self.redis.port, r.group) for r in self.rooms}
            if all(sizes[g] <= before[g] - 1 for g in sizes):
                fault.detail["groups_cleaned_after"] = round(now() - fault.struck_at, 2)
                break
            if now() > deadline:
                stuck = {g: (before[g], sizes[g]) for g in sizes if sizes[g] > before[g] - 1}
                note = (
                    f"{fault.phase}: {len(stuck)} group(s) still held their dropped member "
                    f"{self.config.group_cleanup_bound:.0f} s later (size before, now): {stuck}"
                )
                fault.detail["groups_not_cleaned"] = stuck
                self.result.notes.append(note)
                self._say(note)
                break
            await asyncio.sleep(0.05)
        return fault.struck_at, ["room", "worker"]

    async def _aftershocks(self, phase: str, fault_phase: str) -> None:
        await self._all_connected(phase)
        connects_before = self._connects()
        await self._traffic(phase, count=None, until=now() + self.config.aftershock_seconds)
        await self._drain(phase)
        self._record(phase)
        self.result.faults[fault_phase].detail["aftershock_reconnects"] = (
            self._connects() - connects_before
        )

    async def _after_faults(self, phase: str, messages: int) -> None:
        joined = [self._add_member(room) for room in self.rooms]
        await self._connect_all(joined)
        await self._load(phase, messages)

    async def _settle(self, *, close_clients: bool) -> dict[str, Sample]:
        """Threads and memory must come back near the baseline once the load stops.

        Checked twice: with the clients idle but connected (as at the baseline), before the
        Redis restart replaces the workers; and at the end with every client gone.
        """
        if close_clients:
            for member in [m for room in self.rooms for m in room.members]:
                await member.stop()
        deadline = now() + self.config.settle_bound
        while True:
            after = self._snapshot()
            over = self._over_baseline(after)
            if not over or now() > deadline:
                break
            await asyncio.sleep(0.5)
        for problem in over:
            self._fail(problem)
        return after

    def _over_baseline(self, after: dict[str, Sample]) -> list[str]:
        problems = []
        for name, base in self.result.baseline.items():
            now_sample = after.get(name)
            if now_sample is None:
                continue  # killed or restarted on purpose: no baseline of its own
            if now_sample.threads > base.threads + self.config.thread_slack:
                problems.append(f"{name}: {now_sample.threads} threads, baseline {base.threads}")
            limit = base.rss_kib + max(
                self.config.rss_slack_kib, int(base.rss_kib * self.config.rss_slack_fraction)
            )
            if now_sample.rss_kib > limit:
                problems.append(
                    f"{name}: RSS {now_sample.rss_kib // 1024} MiB, baseline "
                    f"{base.rss_kib // 1024} MiB (limit {limit // 1024} MiB)"
                )
        return problems

    def _print_samples(self, label: str, samples: dict[str, Sample]) -> None:
        cells = ", ".join(
            f"{name.split('-', 1)[1]} {s.rss_kib / 1024:.0f} MiB/{s.threads} thr"
            for name, s in samples.items()
        )
        self._say(f"{label}: {cells}")

    async def _soak(self) -> None:
        started = now()
        end = started + self.config.soak_seconds
        next_sample = started
        cycle = 0
        last_redis_restart = -1e9
        while now() < end:
            cycle += 1
            # A Redis restart's aftershocks (consumers crashing on dead pooled connections)
            # last a while: cycles within 30 s of one are measured, not held to zero loss.
            shaken = now() - last_redis_restart < 30.0
            if now() >= next_sample:
                samples = self._snapshot()
                self.result.timeline.append((now() - started, samples))
                self._print_samples(f"soak t={now() - started:6.0f} s", samples)
                next_sample += self.config.sample_every
            if cycle % 10 == 0:
                await self._fault_phase(f"soak-{cycle}-redis-restart", self._restart_redis)
                await self._aftershocks(f"soak-{cycle}-aftershocks", f"soak-{cycle}-redis-restart")
                last_redis_restart = now()
            elif shaken:
                await self._load(f"soak-{cycle}-aftershocks", self.config.load_messages)
            elif cycle % 6 == 0:
                await self._fault_phase(f"soak-{cycle}-drop-clients", self._drop_clients)
                await self._after_faults(f"soak-load-{cycle}-rejoin", self.config.load_messages)
            elif cycle % 4 == 0:
                await self._fault_phase(f"soak-{cycle}-worker-kill", self._kill_worker)
            else:
                await self._load(f"soak-load-{cycle}", self.config.load_messages)

    # ------------------------------------------------------------------ the run

    async def run(self) -> SideResult:
        started = time.monotonic()
        supervisor: asyncio.Future[None] | None = None
        try:
            await self._start()
            await self._warmup()
            self._print_samples("baseline", self.result.baseline)
            self._supervising = True
            supervisor = asyncio.ensure_future(self._supervise())
            await self._load("load", self.config.load_messages)
            if self.config.soak_seconds:
                await self._soak()
                await self._after_faults("after-faults", self.config.load_messages // 2)
            else:
                await self._fault_phase("worker-kill", self._kill_worker)
                await self._fault_phase("drop-clients", self._drop_clients)
                await self._after_faults("after-faults", self.config.load_messages // 2)
                self.result.idle_after_faults = await self._settle(close_clients=False)
                self._print_samples("idle after the faults", self.result.idle_after_faults)
                # Last: its aftershocks outlast the phase (see AFTERSHOCK_PHASE).
                await self._fault_phase("redis-restart", self._restart_redis)
                await self._aftershocks(AFTERSHOCK_PHASE, "redis-restart")
            self._supervising = False
            self.result.after = await self._settle(close_clients=True)
            self._print_samples("at the end, clients gone", self.result.after)
        except (Hang, RuntimeError) as exc:
            self._fail(str(exc))
        finally:
            self._supervising = False
            if supervisor is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(supervisor, 5)
            for room in self.rooms:
                for member in room.members:
                    await member.stop(timeout=2)
            if self.site is not None:
                for proc in reversed(self.site.processes()):
                    self.registry.stop(proc)
            if self.redis.proc is not None:
                self.registry.stop(self.redis.proc)
            self.result.failures += [f"hang: {h}" for h in self.registry.hangs]
            self.registry.hangs.clear()
            self.result.seconds = time.monotonic() - started
        return self.result
