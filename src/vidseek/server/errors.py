"""Every error the API returns is JSON: ``{"error": CODE, "detail": "what to do"}``."""

from __future__ import annotations

import logging

from vidseek.errors import (
    AskError,
    DataError,
    MediaError,
    ModelError,
    QueryError,
    UnknownVideoError,
    VidseekError,
)

__all__ = ["ApiError", "describe", "error_body", "install_error_handlers"]

log = logging.getLogger("vidseek.server")

_STATUS = [  # most specific first
    (UnknownVideoError, 404, "unknown_video"),
    (QueryError, 400, "bad_query"),
    (MediaError, 422, "bad_media"),
    (ModelError, 422, "model_unavailable"),
    (DataError, 422, "bad_data"),
    (AskError, 502, "ask_failed"),
    (VidseekError, 500, "library_error"),
]


class ApiError(Exception):
    """An error with its HTTP status, raised by the routes.

    Args:
        status: HTTP status code.
        error: a short machine-readable code, e.g. ``upload_too_large``.
        detail: what went wrong and what to do, for people.
        headers: extra response headers, e.g. ``Retry-After``.
    """

    def __init__(self, status: int, error: str, detail: str, *,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail
        self.headers = headers


def error_body(error: str, detail) -> dict:
    return {"error": error, "detail": detail}


def describe(exc: BaseException) -> tuple[int, str, str]:
    """(HTTP status, error code, detail) for any exception."""
    if isinstance(exc, ApiError):
        return exc.status, exc.error, exc.detail
    if isinstance(exc, VidseekError):
        status, code = next((s, c) for cls, s, c in _STATUS if isinstance(exc, cls))
        return status, code, str(exc)
    if isinstance(exc, ValueError):  # an argument the library refused
        return 400, "bad_request", str(exc)
    return 500, "internal_error", f"{type(exc).__name__}: {exc} (see the server log)"


def install_error_handlers(app) -> None:
    """Turn every exception, ours or the framework's, into a JSON error response."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    @app.exception_handler(ApiError)
    async def api_error(request, exc: ApiError):
        return JSONResponse(error_body(exc.error, exc.detail), status_code=exc.status,
                            headers=exc.headers)

    @app.exception_handler(VidseekError)
    async def vidseek_error(request, exc: VidseekError):
        status, code, detail = describe(exc)
        return JSONResponse(error_body(code, detail), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request, exc: RequestValidationError):
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                    for e in exc.errors()]
        return JSONResponse(error_body("invalid_request", "; ".join(problems)), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request, exc: HTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint or file: {request.url.path}; see /docs for the API"
        return JSONResponse(error_body(code, detail), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        status, code, detail = describe(exc)
        return JSONResponse(error_body(code, detail), status_code=status)
