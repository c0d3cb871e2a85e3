"""No HTTP views: the site is websockets and a background channel only."""

from __future__ import annotations

urlpatterns: list[object] = []
