"""Sphinx configuration of the asgiref documentation site (``nox -s docs`` builds it).

The API pages import ``asgiref`` from wherever the running interpreter finds it:
``nox -s docs`` installs the freshly built wheels, so autodoc documents the code
users get, never a source tree.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "tools"))

import bench_figures  # noqa: E402 - found through the path entry above

project = "asgiref"
author = "the asgiref re-implementation authors"
copyright = "the asgiref re-implementation authors"
release = importlib.metadata.version("asgiref")
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
]

# Markdown for the guides (the repository's READMEs and DEVIATIONS.md are Markdown),
# reStructuredText for the API pages (autodoc directives read best there).
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# _generated holds what the performance page includes, not pages of its own.
exclude_patterns = ["_build", "_generated", "tools", "_data"]

# The documented path, not the private module an object is defined in.
add_module_names = False
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True}
# Signatures as written, not every alias expanded into a union a screen wide.
autodoc_preserve_defaults = True
python_use_unqualified_type_names = True
# asgiref.typing's TypedDicts have fields named ``type`` and ``bytes``; autodoc then finds
# several targets for the builtin ``bytes`` in an annotation and says so. The reference
# still renders; ambiguity is the only thing this hides (unresolved references are not
# reported without nitpicky mode either).
suppress_warnings = ["ref.python"]

html_theme = "furo"
html_title = f"asgiref {release}"
html_static_path = ["_static"]
html_last_updated_fmt = None
# No network at build time and no third-party fonts: furo works offline as it is.
html_show_sourcelink = False

# The performance page's tables and plots come from the committed bench JSON.
bench_figures.write_all(DOCS / "_data" / "bench.json", DOCS / "_generated")
