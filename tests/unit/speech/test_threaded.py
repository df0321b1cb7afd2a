from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from server.speech.threaded import iterate_in_thread


async def test_items_arrive_in_order() -> None:
    items = [x async for x in iterate_in_thread(lambda: iter(range(10)))]
    assert items == list(range(10))


async def test_producer_error_reaches_the_consumer() -> None:
    def gen() -> Iterator[int]:
        yield 1
        raise RuntimeError("model broke")

    got = []
    with pytest.raises(RuntimeError, match="model broke"):
        async for x in iterate_in_thread(gen):
            got.append(x)
    assert got == [1]


async def test_consumer_stopping_stops_the_producer() -> None:
    produced: list[int] = []
    finished = threading.Event()

    def gen() -> Iterator[int]:
        try:
            for i in range(1000):
                produced.append(i)
                time.sleep(0.002)
                yield i
        finally:
            finished.set()

    agen = iterate_in_thread(gen, max_ahead=2)
    async for x in agen:
        if x == 3:
            break
    await agen.aclose()
    assert finished.wait(2.0), "the producer thread was not stopped"
    assert len(produced) < 20
