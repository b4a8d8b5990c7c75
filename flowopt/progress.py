"""Progress reports of long runs: one callback type, and a bar on a terminal.

Analyses that take a while (the pathway, batches, the target–cost sweep) accept an optional
``progress`` callback and call it as ``progress(done, total, what)``: ``done`` steps of ``total``
are finished and ``what`` names the step that just finished (``"2024 plan"``,
``"haorun_slips: optimal"``). The analyses know nothing about terminals; the command line turns
the callback into a `rich <https://rich.readthedocs.io>`_ progress bar with :func:`progress_bar`.

The bar is drawn on standard error only when standard error is a terminal and the user did not
ask for ``--quiet``: piped or redirected output, ``--json`` documents and tests never see it.
``rich`` is imported only when a bar is actually drawn, so ``flowopt --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any, Protocol


class Progress(Protocol):
    """``progress(done, total, what)``: ``done`` of ``total`` steps finished, ``what`` the last one."""

    def __call__(self, done: int, total: int, what: str) -> None:
        """Report that ``done`` of ``total`` steps are finished; ``what`` names the last one."""


#: The same type as a plain callable, for signatures that prefer ``Callable``.
ProgressCallback = Callable[[int, int, str], None]


def no_progress(done: int, total: int, what: str) -> None:
    """A progress callback that reports nothing."""


def report(progress: ProgressCallback | None, done: int, total: int, what: str) -> ProgressCallback | None:
    """Call ``progress`` safely: a callback that raises is dropped, the work goes on.

    Args:
        progress: the callback, or ``None``.
        done: steps finished.
        total: steps in all.
        what: the step that just finished.

    Returns:
        The callback to use from now on: ``progress``, or ``None`` once it has raised.
    """
    if progress is None:
        return None
    try:
        progress(done, total, what)
    except Exception:  # a broken progress sink must not lose the work it reports on
        return None
    return progress


def shows_bar(quiet: bool = False, stream: IO[str] | None = None) -> bool:
    """True when a progress bar should be drawn: not ``quiet`` and ``stream`` is a terminal.

    Args:
        quiet: the user asked for no progress (``--quiet``).
        stream: where the bar would go (default: standard error).
    """
    if quiet:
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


@contextlib.contextmanager
def progress_bar(description: str, *, quiet: bool = False, stream: IO[str] | None = None) -> Iterator[ProgressCallback | None]:
    """Yield a progress callback that draws a bar on ``stream``, or ``None`` when none is shown.

    The bar is transient (it disappears when the block ends, leaving the command's own output
    clean) and shows the steps done, the last step's name and the elapsed time.

    Args:
        description: what is running (``"pathway"``, ``"batch"``).
        quiet: draw nothing (``--quiet``).
        stream: where to draw (default: standard error); nothing is drawn unless it is a terminal.

    Yields:
        ``progress(done, total, what)``, or ``None`` when no bar is shown (pass it on as is:
        the analyses skip their reports then).
    """
    if not shows_bar(quiet, stream):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=sys.stderr if stream is None else stream)
    columns: list[Any] = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[what]}")]
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(description, total=None, what="")

        def update(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, what=what[:60])

        yield update


@contextlib.contextmanager
def spinner(description: str, *, quiet: bool = False, stream: IO[str] | None = None) -> Iterator[None]:
    """Show a transient spinner while a block of unknown length runs (a solve and its explanations).

    Args:
        description: what is running (``"Solving panzhihua_east"``).
        quiet: draw nothing (``--quiet``).
        stream: where to draw (default: standard error); nothing is drawn unless it is a terminal.
    """
    if not shows_bar(quiet, stream):
        yield
        return
    from rich.console import Console

    console = Console(file=sys.stderr if stream is None else stream)
    with console.status(f"{description}…", spinner="dots"):
        yield
