"""User-facing errors: one clear line, a non-zero exit, never a traceback.

Anything the user can fix (a bad override, a missing dataset, an infeasible
budget) raises :class:`UserError`. Entry points wrap their main function with
:func:`exit_on_user_error`, which prints ``error: <message>`` and exits 1.
Bugs are not UserErrors and keep their tracebacks.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class UserError(Exception):
    """A problem with the user's input, reported as one line without a traceback."""


def folded(exc: BaseException) -> str:
    """An exception's message folded onto one line (Hydra's span several)."""
    text = str(exc).split("\nConfig search path")[0]
    text = " ".join(text.replace("\t", " ").split())
    return text.replace("Available options in", "- available options in")


def fail(message: str) -> None:
    """Print ``error: message`` on stderr as a single line and exit with status 1."""
    line = " ".join(str(message).split())
    print(f"error: {line}", file=sys.stderr, flush=True)
    raise SystemExit(1)


def exit_on_user_error(fn: F) -> F:
    """Turn a :class:`UserError` escaping ``fn`` into a one-line error and exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]
