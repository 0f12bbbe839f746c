"""The analysis thread: analyses run off the message loop, and only the newest one counts.

A 10,000-layer spec takes about a second to analyse, so analysing on the loop thread would
freeze hovers and completions while the user types. Requests queue per document, and a newer
request replaces an older one still waiting (typing ten characters costs one analysis, not
ten). A document whose last analysis was slow is also debounced: its next analysis waits a
little for the typing to pause. Results come back to the loop, which drops any result that a
newer edit has made stale.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

R = TypeVar("R")

SLOW = 0.1  # seconds: an analysis this slow gets its next run debounced
MAX_DELAY = 0.3  # the longest debounce: the user should not wait longer than this for a result


class Worker(Generic[R]):
    """One daemon thread running the newest job per key; results go to `deliver` on `loop`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[str, R], None]) -> None:
        self._loop = loop
        self._deliver = deliver
        self._jobs: dict[str, tuple[float, Callable[[], R]]] = {}
        self._cv = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="archc-analysis", daemon=True)
        self._thread.start()

    def submit(self, key: str, job: Callable[[], R], delay: float = 0.0) -> None:
        """Queue `job` for `key`, replacing a job of that key that has not started."""
        with self._cv:
            self._jobs.pop(key, None)
            self._jobs[key] = (time.monotonic() + min(delay, MAX_DELAY), job)
            self._cv.notify()

    def pending(self, key: str) -> bool:
        """True while a job for `key` waits to run (a result for it now would be stale)."""
        with self._cv:
            return key in self._jobs

    def stop(self) -> None:
        """Let the thread end after its current job."""
        with self._cv:
            self._stopped = True
            self._cv.notify()

    def _next(self) -> tuple[str, Callable[[], R]] | None:
        """Wait for the job whose time has come (earliest first); None once stopped."""
        with self._cv:
            while not self._stopped:
                if self._jobs:
                    key = min(self._jobs, key=lambda k: self._jobs[k][0])
                    wait = self._jobs[key][0] - time.monotonic()
                    if wait <= 0:
                        return key, self._jobs.pop(key)[1]
                    self._cv.wait(wait)
                else:
                    self._cv.wait()
            return None

    def _run(self) -> None:
        while (item := self._next()) is not None:
            key, job = item
            result = job()  # a job catches its own errors: it turns them into diagnostics
            if self._loop.is_closed():
                return
            try:
                self._loop.call_soon_threadsafe(self._deliver, key, result)
            except RuntimeError:  # the loop closed while we worked: the server is exiting
                return
