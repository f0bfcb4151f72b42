"""Import LanceDB without building its REST namespace client first.

LanceDB imports ``lance_namespace``, which takes its request and response models from the
generated REST client ``lance_namespace_urllib3_client``. That package's ``__init__`` also
builds every REST API class (some 15,000 lines of pydantic-validated methods): 0.8-1.0 s of
LanceDB's 1.7 s import on a quiet machine, paid by every command that opens a library, for a
client a local library never calls.

`import_lancedb` loads that one package lazily: its submodules (the models LanceDB uses)
import as usual, and its own ``__init__`` runs, in full and unchanged, the first time
anything asks the package for an attribute. Nothing is replaced by a placeholder, so code
that does use the client gets the real one, only later.

LanceDB also marks its methods with ``overrides.override``, which checks, as each class is
created, that the method overrides one of a base class by disassembling the calling frame's
bytecode: 0.15-0.25 s for LanceDB's 105 methods. The check finds mistakes in LanceDB's own
source, not in its use; while LanceDB's modules load, ``override`` only marks the method
(``__override__ = True``, as ``typing.override`` does) and is restored after.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import ModuleType

__all__ = ["import_lancedb"]

NAMESPACE_CLIENT = "lance_namespace_urllib3_client"


def import_lancedb() -> ModuleType:
    """``import lancedb``, with the namespace client's package body deferred."""
    if "lancedb" not in sys.modules:
        defer_package_body(NAMESPACE_CLIENT)
        with marking_overrides():
            import lancedb
    import lancedb

    return lancedb


@contextmanager
def marking_overrides() -> Iterator[None]:
    """``overrides.override`` (and ``overrides.overrides``) only mark the method while the
    block runs, as ``typing.override`` does; nothing happens when ``overrides`` is absent."""
    try:
        import overrides
    except ImportError:
        yield
        return
    saved = overrides.override, overrides.overrides
    overrides.override = overrides.overrides = _mark_override
    try:
        yield
    finally:
        overrides.override, overrides.overrides = saved


def _mark_override(method: Callable | None = None, **checks: bool) -> Callable:
    """``@override`` or ``@override(check_signature=...)``, marking instead of checking."""
    if method is None:
        return _mark_override
    with suppress(AttributeError, TypeError):  # a builtin or a slotted object: no mark
        method.__override__ = True  # type: ignore[attr-defined]
    return method


def defer_package_body(name: str) -> None:
    """Register package ``name`` so that its submodules can be imported before its
    ``__init__`` has run; the ``__init__`` runs on the first attribute lookup that finds
    nothing. Does nothing when the package is already imported or is not installed."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    package = importlib.util.module_from_spec(spec)  # has __path__: submodules import

    def run_body(attribute: str) -> object:
        del package.__getattr__
        spec.loader.exec_module(package)  # type: ignore[union-attr]
        return getattr(package, attribute)

    package.__getattr__ = run_body  # type: ignore[method-assign]
    sys.modules[name] = package
