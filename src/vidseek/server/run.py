"""Run the server: check the bind address, open the library, hand the app to uvicorn."""

from __future__ import annotations

from pathlib import Path

from vidseek.server.app import DEFAULT_UPLOAD_LIMIT, create_app
from vidseek.server.guard import check_bind

__all__ = ["serve"]


def serve(library: str | Path | None = None, *, host: str = "127.0.0.1", port: int = 8765,
          token: str | None = None, upload_limit: int = DEFAULT_UPLOAD_LIMIT,
          on_ready=None) -> None:
    """Serve a library until interrupted.

    Args:
        library: the library folder (default ``$VIDSEEK_HOME`` or ``~/.vidseek``).
        host: address to listen on; anything but loopback needs ``token``.
        port: TCP port.
        token: the secret every request must carry.
        upload_limit: bytes one upload may hold.
        on_ready: called with the page's URL before serving starts.

    Raises:
        BindError: a non-loopback ``host`` without a token.
    """
    check_bind(host, token)  # before the slow imports: a refusal is immediate

    import uvicorn

    from vidseek.library import Library

    with Library(library) as lib:
        app = create_app(lib, token=token, upload_limit=upload_limit)
        if on_ready is not None:
            shown = f"[{host}]" if ":" in host else host
            on_ready(f"http://{shown}:{port}/" + (f"?token={token}" if token else ""))
        uvicorn.run(app, host=host, port=port, log_level="warning")
