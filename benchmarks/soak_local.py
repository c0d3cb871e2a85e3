"""Soak: 1,000,000 Local set/get/del cycles per mode across short-lived asyncio tasks.

Not a ``bench_*`` module (the runner skips it): run it directly,
``python benchmarks/soak_local.py``. It prints the number of objects tracked by
the garbage collector, allocated memory blocks and peak RSS at each checkpoint
and exits 1 if either count grew between the first and last checkpoint. The
test suite runs the same check with 100,000 cycles.
"""

from __future__ import annotations

import asyncio
import gc
import resource
import sys
import time

from asgiref.local import Local

CYCLES = 1_000_000
CYCLES_PER_TASK = 100
CONCURRENT_TASKS = 100
CHECKPOINTS = 5
# Tolerances: anything kept per cycle or per task would show up as thousands.
MAX_OBJECT_GROWTH = 100
MAX_BLOCK_GROWTH = 1_000


def footprint() -> tuple[int, int, int]:
    gc.collect()
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return len(gc.get_objects()), sys.getallocatedblocks(), peak_rss_kib


async def soak(local: Local, cycles: int) -> None:
    async def task() -> None:
        for index in range(CYCLES_PER_TASK):
            local.value = index
            if local.value != index:
                raise AssertionError("read back a different value")
            del local.value
            if index == CYCLES_PER_TASK // 2:
                await asyncio.sleep(0)

    batches = cycles // (CYCLES_PER_TASK * CONCURRENT_TASKS)
    for _ in range(batches):
        await asyncio.gather(*(task() for _ in range(CONCURRENT_TASKS)))


def run_mode(thread_critical: bool) -> bool:
    label = "thread_critical" if thread_critical else "default"
    local = Local(thread_critical)
    local.outside = "kept"
    loop = asyncio.new_event_loop()
    per_checkpoint = CYCLES // CHECKPOINTS
    try:
        loop.run_until_complete(soak(local, per_checkpoint // 10))  # warm-up
        samples = [footprint()]
        started = time.perf_counter()
        for _ in range(CHECKPOINTS):
            loop.run_until_complete(soak(local, per_checkpoint))
            samples.append(footprint())
        elapsed = time.perf_counter() - started
    finally:
        loop.close()
    print(f"{label}: {CYCLES:,} set/get/del cycles in {elapsed:.2f} s")
    for index, (objects, blocks, rss) in enumerate(samples):
        done = index * per_checkpoint
        print(
            f"  after {done:>9,}: gc objects {objects:>8,}"
            f"  blocks {blocks:>9,}  peak RSS {rss:,} KiB"
        )
    object_growth = samples[-1][0] - samples[0][0]
    block_growth = samples[-1][1] - samples[0][1]
    ok = (
        object_growth <= MAX_OBJECT_GROWTH
        and block_growth <= MAX_BLOCK_GROWTH
        and local.outside == "kept"
    )
    verdict = "ok" if ok else "GREW"
    print(f"  growth: {object_growth:+,} objects, {block_growth:+,} blocks -> {verdict}")
    return ok


def main() -> int:
    results = [run_mode(False), run_mode(True)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
