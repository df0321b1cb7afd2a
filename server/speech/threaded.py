"""Run a blocking generator (a model's streaming synthesis) in a thread and consume it asynchronously."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


async def iterate_in_thread(make: Callable[[], Iterator[T]], *, max_ahead: int = 4) -> AsyncGenerator[T, None]:
    """Yield the items of `make()` as the thread produces them.

    The thread stays at most `max_ahead` items ahead; when the consumer stops (break, cancel,
    error) the thread is told to stop after its current item and the generator is closed there.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    stop = threading.Event()
    room = threading.Semaphore(max_ahead)

    def put(item: object) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    def work() -> None:
        gen = make()
        try:
            for item in gen:
                while not room.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                put(item)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(_Failure(exc))
        finally:
            close = getattr(gen, "close", None)
            if close is not None:
                close()
            put(_DONE)

    thread = threading.Thread(target=work, name="memoria-stream", daemon=True)
    thread.start()
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            room.release()
            yield item  # type: ignore[misc]
    finally:
        stop.set()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
