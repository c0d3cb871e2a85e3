from __future__ import annotations

# tests/typing/ holds type-checker inputs (mypy and pyright run them in strict mode);
# they are never executed, so pytest must not import them.
collect_ignore_glob = ["typing/*"]
