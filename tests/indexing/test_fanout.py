"""One decode of the audio for every audio analyzer: `fan_out` hands each consumer every
item once produced, keeps memory bounded, and lets no consumer hold the others up; the plan
puts the audio analyzers over the same ranges in one job."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from media_info import make_info

from vidseek.indexing.fanout import AHEAD, fan_out
from vidseek.indexing.plan import first_jobs, plan_chunks
from vidseek.media.probe import AudioStreamInfo


class Produced:
    """Items 0..n-1, counting how many were made."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at, self.made = n, fail_at, 0

    def __iter__(self):
        for i in range(self.n):
            if i == self.fail_at:
                raise OSError("the track broke")
            self.made += 1
            yield i


def test_every_consumer_reads_every_item_of_one_pass_in_order():
    items = Produced(50)
    seen: dict[str, list[int]] = {"fast": [], "slow": []}

    def fast(chunks):
        seen["fast"].extend(chunks)

    def slow(chunks):
        for item in chunks:
            time.sleep(0.001)
            seen["slow"].append(item)

    fan_out(items, [fast, slow])
    assert items.made == 50 and seen == {"fast": list(range(50)), "slow": list(range(50))}


def test_the_producer_stays_within_reach_of_the_slowest_reader():
    items = Produced(40)
    lag = []
    slow_read = 0

    def fast(chunks):
        for _ in chunks:
            lag.append(items.made - slow_read)

    def slow(chunks):
        nonlocal slow_read
        time.sleep(0.05)  # the fast reader runs ahead meanwhile
        for _ in chunks:
            slow_read += 1
            time.sleep(0.002)

    fan_out(items, [fast, slow])
    assert slow_read == 40
    assert max(lag) <= AHEAD + 2  # its queue, the item in hand, the one being offered


def test_a_reader_that_stops_or_fails_holds_nobody_up():
    items = Produced(30)
    done: dict[str, object] = {}

    def quits(chunks):
        for item in chunks:
            if item == 2:
                return

    def fails(chunks):
        for item in chunks:
            if item == 3:
                raise ValueError("analyzer broke")

    def reads(chunks):
        done["all"] = list(chunks)

    def guarded(chunks):
        try:
            fails(chunks)
        except ValueError as exc:
            done["error"] = exc

    fan_out(items, [quits, guarded, reads])
    assert done["all"] == list(range(30)) and isinstance(done["error"], ValueError)


def test_nobody_reading_stops_the_production():
    items = Produced(1000)
    fan_out(items, [lambda chunks: next(iter(chunks)), lambda chunks: None])
    assert items.made < 20


def test_a_producer_error_reaches_every_reader_after_what_was_made():
    got: dict[int, tuple[list[int], BaseException | None]] = {}

    def reader(number):
        def read(chunks):
            seen: list[int] = []
            try:
                for item in chunks:
                    seen.append(item)
            except OSError as exc:
                got[number] = (seen, exc)
            else:
                got[number] = (seen, None)
        return read

    fan_out(Produced(10, fail_at=6), [reader(0), reader(1)])
    for number in (0, 1):
        seen, error = got[number]
        assert seen == list(range(6)) and isinstance(error, OSError)


def test_ctrl_c_in_the_producer_stops_the_readers_and_the_caller():
    def interrupted():
        yield 1
        raise KeyboardInterrupt

    seen = []
    with pytest.raises(KeyboardInterrupt):
        fan_out(interrupted(), [lambda chunks: seen.extend(chunks)])
    assert seen == [1]


@pytest.mark.parametrize("chunk_seconds", [0.0, 300.0])
def test_audio_analyzers_over_the_same_ranges_share_one_job(chunk_seconds):
    info = make_info("/v.mp4", duration=1200.0)
    info.audio = [AudioStreamInfo(index=1, codec="aac", sample_rate=48000, channels=1,
                                  start=0.0)]
    chunks = plan_chunks(info.duration, chunk_seconds)
    jobs = first_jobs(Path("/v.mp4"), "v", info, ["speech", "sounds"], chunks, {})
    audio = [(job.names, job.chunk.index) for job in jobs if job.kind == "audio"]
    if len(chunks) == 1:  # local: one decode for both
        assert audio == [(("speech", "sounds"), 0)]
    else:  # speech is chunked, the sound tagger reads the whole video
        assert audio == [(("speech",), i) for i in range(len(chunks))] + [(("sounds",), 0)]
