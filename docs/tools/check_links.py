"""Check the built HTML site: every internal link resolves, every expected page exists.

``python docs/tools/check_links.py HTML_DIR``. Sphinx's ``linkcheck`` builder checks
external links over the network; this checks the ones inside the site, offline: each
``href`` and ``src`` that is not an external URL must name a file of the build, and a
``#fragment`` must name an ``id`` (or ``name``) in the target page. Exit 1 on the first
report with problems, listing them all.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# The pages the site must have: the guides, the reference and Sphinx's own.
EXPECTED_PAGES = (
    "index.html",
    "getting-started.html",
    "migrating.html",
    "bridge.html",
    "wsgi.html",
    "testing.html",
    "server.html",
    "observability.html",
    "performance.html",
    "deviations.html",
    "about.html",
    "api/index.html",
    "api/sync.html",
    "api/local.html",
    "api/current_thread_executor.html",
    "api/timeout.html",
    "api/compatibility.html",
    "api/wsgi.html",
    "api/testing.html",
    "api/server.html",
    "api/typing.html",
    "genindex.html",
    "search.html",
)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.anchors.add(value)
            elif name in ("href", "src") and not (tag == "link" and "://" in value):
                self.links.append(value)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def problems_in(site: Path) -> list[str]:
    problems = [f"missing page: {name}" for name in EXPECTED_PAGES if not (site / name).is_file()]
    pages = {path: parse(path) for path in sorted(site.rglob("*.html"))}
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue  # external: not ours to check offline
            target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            where = path.relative_to(site)
            if not target.is_file():
                problems.append(f"{where}: broken link {link!r}")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                anchors = pages[target].anchors if target in pages else parse(target).anchors
                if fragment not in anchors:
                    problems.append(f"{where}: {link!r} names no anchor {fragment!r}")
    return problems


def main() -> int:
    site = Path(sys.argv[1]).resolve()
    problems = problems_in(site)
    pages = len(list(site.rglob("*.html")))
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{pages} pages checked: {len(problems)} broken internal links or missing pages")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
