"""``vidseek serve`` (the REST API and the web page) and ``vidseek mcp`` (the MCP server)."""

from __future__ import annotations

from typing import Annotated

import typer

from vidseek.cli.app import LibraryOption, app, errors

__all__ = ["mcp_server", "serve"]


@app.command()
def serve(
    library: LibraryOption = None,
    host: Annotated[str, typer.Option(
        help="Address to listen on. Anything but loopback needs --token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8765,
    token: Annotated[str | None, typer.Option(
        envvar="VIDSEEK_TOKEN",
        help="Secret every request must carry (Authorization: Bearer, or ?token= once in the "
             "browser). Required to bind other addresses than 127.0.0.1.")] = None,
    upload_limit: Annotated[float, typer.Option(
        help="Largest upload, in MB; bigger files are added by path.")] = 2048.0,
) -> None:
    """Serve the web page and the REST API (OpenAPI docs at /docs) until Ctrl-C."""
    from vidseek.server import serve as run_server

    run_server(library, host=host, port=port, token=token,
               upload_limit=int(upload_limit * 1e6),
               on_ready=lambda url: errors.print(f"vidseek is serving {url}  (Ctrl-C stops)"))


@app.command("mcp")
def mcp_server(library: LibraryOption = None) -> None:
    """Run the MCP server over stdio (for Claude Desktop and other MCP clients): tools
    search_moments, get_transcript, inspect_frames, ask and list_videos."""
    from vidseek.mcp import run_stdio

    run_stdio(library)
