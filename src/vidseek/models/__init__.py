"""Model backends behind small protocols, chosen by spec strings (see DESIGN.md).

Backends import their heavy packages lazily, inside the functions that need them, so that
``import vidseek`` stays fast and a missing optional package is a clear error only when used.
"""
