"""Write the GraphQL schema's SDL to ``api/schema.graphql``.

    .venv/bin/python -m api.export_schema

A test fails when the committed file differs from the schema the code defines, so front-end
developers can read (and diff) the API without running it.
"""

from __future__ import annotations

from pathlib import Path

from api.schema import schema

SDL_PATH = Path(__file__).with_name("schema.graphql")

__all__ = ["SDL_PATH", "sdl"]


def sdl() -> str:
    """The schema in GraphQL SDL, ending with a newline."""
    return schema.as_str().rstrip() + "\n"


if __name__ == "__main__":
    SDL_PATH.write_text(sdl(), encoding="utf-8")
    print(f"wrote {SDL_PATH}")
