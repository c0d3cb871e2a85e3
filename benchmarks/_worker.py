"""Run one benchmark module's workloads once, in this process, and print JSON.

Invoked by ``run.py`` with the interpreter of one implementation's virtualenv.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import traceback


def main() -> None:
    path = sys.argv[1]
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    spec = importlib.util.spec_from_file_location("bench_module", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results: dict[str, float | None] = {}
    for name, workload in module.WORKLOADS.items():
        if only and only not in name:
            continue
        try:
            results[name] = float(workload())
        except NotImplementedError:
            results[name] = None
        except Exception:
            traceback.print_exc()
            print(f"workload {name} failed", file=sys.stderr)
            results[name] = None
    print(
        json.dumps(
            {
                "results": results,
                "targets": getattr(module, "TARGETS", []),
                "vs_published": getattr(module, "VS_PUBLISHED", []),
            }
        )
    )


if __name__ == "__main__":
    main()
