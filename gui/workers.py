"""Safe delivery of background-worker results to Qt objects that may be gone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6 import sip
from PyQt6.QtCore import QObject

__all__ = ["guarded"]


def guarded(owner: QObject, callback: Callable[..., Any]) -> Callable[..., None]:
    """Wrap a worker-signal callback so it is skipped once ``owner`` has been deleted.

    A worker that finishes after its window closed still delivers its queued
    ``returned``/``finished`` signals; PyQt cannot disconnect lambdas for us, so
    without this the callback would touch a deleted C++ object.
    """

    def call(*args: Any) -> None:
        if not sip.isdeleted(owner):
            callback(*args)

    return call
