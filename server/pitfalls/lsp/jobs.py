"""Engine work an editor waits on (an open document's check), which a long scan may run
between its files rather than after them (see ``PitfallsServer.run_editor``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(eq=False)
class EditorJob:
    """Engine work an editor waits on, run once, by whichever of the engine thread's turn
    and a scan's pause between files takes it from ``PitfallsServer.editor_jobs`` first."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future

    def run(self) -> None:
        try:
            value, error = self.fn(*self.args), None
        except BaseException as exc:  # as an executor does: the awaiting side sees it
            value, error = None, exc
        try:
            self.loop.call_soon_threadsafe(_settle, self.done, value, error)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass


def _settle(done: asyncio.Future, value: Any, error: BaseException | None) -> None:
    if done.cancelled():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(value)
