"""Fetch the next pages while the current ones are parsed and handed to dlt.

Our own code because dlt's `parallelized` resources run whole resources (or generator steps)
side by side, not the pages of one listing ahead of their consumer. Socket waits release the
GIL, so a single fetching thread overlaps the API's latency with our parsing; the listing stays
one sequential pass (same requests, same order), so pagination facts are unchanged.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(pages: Iterable[T], depth: int = 8) -> Iterator[T]:
    """Iterate `pages` in a background thread, at most `depth` pages ahead."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        buffer.put(page, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            buffer.put(exc)

    worker = threading.Thread(target=produce, name="lms-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
