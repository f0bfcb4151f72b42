"""The REST API and the web page (``vidseek serve``).

    from vidseek.library import Library
    from vidseek.server import create_app

    app = create_app(Library("~/videos-library"))   # run it with uvicorn

See docs/server.md for the endpoints and the security rules.
"""

from vidseek.server.app import DEFAULT_UPLOAD_LIMIT, create_app
from vidseek.server.guard import BindError, check_bind
from vidseek.server.run import serve

__all__ = ["DEFAULT_UPLOAD_LIMIT", "BindError", "check_bind", "create_app", "serve"]
