"""Neo4j Browser's guide and style sheet, served by the API for ``:guide`` and ``:style``.

``/browser/guide.html`` walks through the graph model with ready queries (a person and their
records, why two records linked, a merge, a household, the most generic identifiers);
``/browser/customer360.grass`` captions, sizes and colours every label by family. Neo4j
Browser fetches both from its own origin, so they are served with ``Access-Control-Allow-Origin:
*`` (they hold no data), and only from a host on the server's
``browser.remote_content_hostname_whitelist`` (Neo4j 5.26's name; ``c360 neo4j start`` sets it
for the API).
"""

from __future__ import annotations

from pathlib import Path

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp

__all__ = ["GRASS", "GUIDE", "browser_app", "guide_html"]

_DIR = Path(__file__).resolve().parent / "static" / "browser"
GUIDE = _DIR / "guide.html"
GRASS = _DIR / "customer360.grass"


def guide_html(api_url: str) -> str:
    """The guide with its ``:style`` command pointing at the API at ``api_url``."""
    return GUIDE.read_text(encoding="utf-8").replace("__C360_API__", api_url.rstrip("/"))


async def _guide(request: Request) -> Response:
    return Response(guide_html(str(request.base_url)), media_type="text/html")


async def _grass(request: Request) -> Response:
    return Response(GRASS.read_text(encoding="utf-8"), media_type="text/plain")


def browser_app() -> ASGIApp:
    """``/guide.html`` and ``/customer360.grass``, readable from any origin (Browser asks with
    ``Pragma`` and ``Cache-Control`` headers, so the preflight allows any header)."""
    router = Router(
        [
            Route("/guide.html", _guide, methods=["GET"]),
            Route("/customer360.grass", _grass, methods=["GET"]),
        ]
    )
    return CORSMiddleware(router, allow_origins=["*"], allow_methods=["GET"], allow_headers=["*"])
