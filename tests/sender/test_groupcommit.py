"""Group commit: items that arrive while a batch is written go together into the next one, and a failed write
reaches every waiter of its batch without stopping the writer."""

from __future__ import annotations

import asyncio
import threading

import pytest

from casehooks.errors import StoreUnavailable
from casehooks.sender.groupcommit import GroupCommit


def test_items_arriving_during_a_write_share_the_next_commit() -> None:
    batches: list[list[int]] = []
    release = threading.Event()

    def write(items: list[int]) -> None:
        if not batches:
            release.wait(120)  # the first write holds the writer while the others arrive
        batches.append(items)

    async def main() -> None:
        commit: GroupCommit[int] = GroupCommit(write)
        first = asyncio.create_task(commit.submit(0))
        await asyncio.sleep(0)
        rest = [asyncio.create_task(commit.submit(n)) for n in range(1, 50)]
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(first, *rest)

    asyncio.run(main())
    assert batches == [[0], list(range(1, 50))]


def test_a_failed_write_fails_its_whole_batch_and_the_next_batch_still_commits() -> None:
    written: list[list[str]] = []

    def write(items: list[str]) -> None:
        if "poison" in items:
            raise StoreUnavailable("database is locked")
        written.append(items)

    async def main() -> list[BaseException | None]:
        commit: GroupCommit[str] = GroupCommit(write)
        outcomes = await asyncio.gather(commit.submit("poison"), commit.submit("ok"), return_exceptions=True)
        await commit.submit("after")
        return [outcome if isinstance(outcome, BaseException) else None for outcome in outcomes]

    outcomes = asyncio.run(main())
    assert all(isinstance(outcome, StoreUnavailable) for outcome in outcomes)
    assert written == [["after"]]


def test_a_waiter_that_gives_up_does_not_break_the_writer() -> None:
    release = threading.Event()
    written: list[list[int]] = []

    def write(items: list[int]) -> None:
        release.wait(120)
        written.append(items)

    async def main() -> None:
        commit: GroupCommit[int] = GroupCommit(write)
        impatient = asyncio.create_task(commit.submit(1))
        await asyncio.sleep(0)
        impatient.cancel()
        with pytest.raises(asyncio.CancelledError):
            await impatient
        release.set()
        await commit.submit(2)

    asyncio.run(main())
    assert written == [[1], [2]]
