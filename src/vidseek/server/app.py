"""The FastAPI application: the REST API under ``/api``, the web page at ``/``, the OpenAPI
documentation at ``/docs``."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from vidseek import __version__

if TYPE_CHECKING:  # the library (LanceDB, models) loads only when an app is made
    from vidseek.library import Library

__all__ = ["DEFAULT_UPLOAD_LIMIT", "STATIC", "create_app"]

DEFAULT_UPLOAD_LIMIT = 2 * 1024**3
"""Bytes one upload may hold (2 GiB); bigger files are indexed by path."""
STATIC = Path(__file__).parent / "static"


def create_app(library: Library, *, token: str | None = None,
               upload_limit: int = DEFAULT_UPLOAD_LIMIT, max_searches: int | None = None,
               max_asks: int | None = None):
    """Build the app that serves ``library``.

    Args:
        library: the library to serve (the app does not close it).
        token: a secret every request must carry (header, ``?token=`` or the cookie set
            from it); None lets in requests addressed to loopback only.
        upload_limit: bytes one upload may hold.
        max_searches: searches run at once; more are refused with 503 (default
            :data:`~vidseek.server.limits.MAX_SEARCHES`).
        max_asks: answers worked out at once; more are refused with 503 (default
            :data:`~vidseek.server.limits.MAX_ASKS`).

    Returns:
        A FastAPI application, to run with uvicorn (see :func:`vidseek.server.serve`).
    """
    from fastapi import FastAPI
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    from vidseek.server.errors import install_error_handlers
    from vidseek.server.guard import Guard
    from vidseek.server.indexing import router as indexing_routes
    from vidseek.server.jobs import Jobs
    from vidseek.server.limits import MAX_ASKS, MAX_SEARCHES, Slots
    from vidseek.server.query import router as query_routes
    from vidseek.server.videos import router as video_routes

    jobs = Jobs(library)

    @asynccontextmanager
    async def lifespan(app):
        yield
        jobs.close()

    app = FastAPI(
        title="vidseek",
        version=__version__,
        summary="Search and ask questions about long videos; every answer points to moments.",
        description="Times are float seconds on the media timeline. Errors are JSON: "
                    '`{"error": CODE, "detail": "what to do"}`.',
        lifespan=lifespan,
    )
    app.state.library = library
    app.state.jobs = jobs
    app.state.upload_limit = upload_limit
    app.state.searches = Slots(MAX_SEARCHES if max_searches is None else max_searches,
                               "searches")
    app.state.asks = Slots(MAX_ASKS if max_asks is None else max_asks, "answers")
    install_error_handlers(app)
    app.include_router(video_routes)
    app.include_router(indexing_routes)
    app.include_router(query_routes)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/favicon.svg", include_in_schema=False)
    @app.get("/favicon.ico", include_in_schema=False)  # where browsers look without a <link>
    def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml",
                            headers={"Cache-Control": "max-age=86400"})

    @app.get("/api/health", tags=["server"], summary="Liveness, version and library size")
    def health() -> dict:
        return {"ok": True, "version": __version__, "videos": len(library.videos())}

    app.add_middleware(Guard, token=token)
    return app
