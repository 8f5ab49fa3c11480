"""Changes to a (session-wide) app's configuration that are always undone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

_MISSING = object()


@contextmanager
def changed_config(app: Flask, **values: Any) -> Iterator[Callable[..., None]]:
    """Set ``values`` on ``app.config`` (and more through the yielded function); every key
    changed gets its old value back (or is removed again) on leaving."""
    saved: dict[str, Any] = {}

    def change(**more: Any) -> None:
        for key, value in more.items():
            saved.setdefault(key, app.config.get(key, _MISSING))
            app.config[key] = value

    change(**values)
    try:
        yield change
    finally:
        for key, value in saved.items():
            if value is _MISSING:
                app.config.pop(key, None)
            else:
                app.config[key] = value
