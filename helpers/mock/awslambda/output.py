"""A worker's stdout/stderr as CloudWatch Logs events: long lines split, one invocation's bounded.

CloudWatch Logs takes events of at most 256 KB (262,144 bytes, counting 26 bytes of overhead per
event), so Lambda splits longer output lines into several events; ``LineSplitter`` does the same
at ``EVENT_MESSAGE_LIMIT`` bytes of UTF-8 (never inside a character). It works in linear time:
each byte is copied into the pending partial line once and out of it once, and the pending line
never holds more than one event plus one read.

``OutputCapture`` reads a worker's merged output continuously and keeps at most
``OUTPUT_LIMIT_BYTES`` of one invocation's lines (the most recent ones: the end of the output, a
traceback, is what ``LogType=Tail`` shows). Past that the oldest lines are dropped and the first
event of the invocation says how many; AWS keeps all of a function's output.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from collections import deque

EVENT_OVERHEAD_BYTES = 26
"""What CloudWatch Logs counts per event on top of its message."""
EVENT_MESSAGE_LIMIT = 262_144 - EVENT_OVERHEAD_BYTES
"""Largest message (UTF-8 bytes) of one log event: 256 KB minus the event overhead."""
OUTPUT_LIMIT_BYTES = 4 * 1024 * 1024
"""Most of one invocation's (or one INIT phase's) output the mock holds, overhead included."""
READ_BYTES = 65_536
_READS_PER_TURN = 16  # the reader lets go of its lock after 1 MiB, so ``take`` is never starved
_READS_PER_TAKE = 64  # more than a pipe holds: ``take`` ends even if the worker keeps writing


def utf8_cut(data: bytes | bytearray, limit: int) -> int:
    """Where to cut ``data`` to keep at most ``limit`` bytes without splitting a UTF-8 character."""
    if len(data) <= limit:
        return len(data)
    start = limit
    while start > limit - 3 and start > 0 and data[start] & 0xC0 == 0x80:
        start -= 1  # data[limit] continues a character: back up to where that character begins
    if start == 0 or data[start] & 0xC0 == 0x80:
        return limit  # not UTF-8 here: cut anywhere
    return start


def split_message(message: str, limit: int = EVENT_MESSAGE_LIMIT) -> list[str]:
    """A log message as events of at most ``limit`` UTF-8 bytes (one event if it fits)."""
    if len(message) * 4 <= limit:
        return [message]
    data = message.encode()
    if len(data) <= limit:
        return [message]
    pieces = []
    while data:
        cut = utf8_cut(data, limit)
        pieces.append(data[:cut].decode("utf-8", "replace"))
        data = data[cut:]
    return pieces


class LineSplitter:
    """Turns a byte stream into lines, and lines longer than ``limit`` bytes into several pieces."""

    def __init__(self, limit: int = EVENT_MESSAGE_LIMIT) -> None:
        self.limit = limit
        self._pending = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes of the current, unfinished line held (at most ``limit`` + one chunk)."""
        return len(self._pending)

    def feed(self, chunk: bytes) -> list[bytes]:
        """The pieces ``chunk`` completes: finished lines, and full-size pieces of a long line."""
        out: list[bytes] = []
        *complete, rest = chunk.split(b"\n")
        for line in complete:
            if self._pending or len(line) > self.limit:
                self._pending += line
                self._emit(out, everything=True)
            else:
                out.append(line)
        self._pending += rest
        self._emit(out, everything=False)
        return out

    def flush(self) -> list[bytes]:
        """The unfinished line, if any (at the end of the output, or when an invocation ends)."""
        out: list[bytes] = []
        if self._pending:
            self._emit(out, everything=True)
        return out

    def _emit(self, out: list[bytes], *, everything: bool) -> None:
        while len(self._pending) > self.limit:
            cut = utf8_cut(self._pending, self.limit)
            out.append(bytes(self._pending[:cut]))
            del self._pending[:cut]  # a bytearray drops its front without moving the rest
        if everything:
            out.append(bytes(self._pending))
            self._pending.clear()


def _now_ms() -> int:
    return int(time.time() * 1000)


class OutputCapture:
    """Reads the worker's merged stdout/stderr continuously, timestamping each line.

    A reader thread keeps the pipe from filling up; ``take`` drains whatever the kernel already
    holds first, so everything the worker wrote before posting its result is attributed to it.
    """

    def __init__(self, fd: int, limit_bytes: int = OUTPUT_LIMIT_BYTES) -> None:
        self._fd = fd
        os.set_blocking(fd, False)
        self.limit_bytes = limit_bytes
        self._lock = threading.Lock()
        self._splitter = LineSplitter()
        self._lines: deque[tuple[int, str, int]] = deque()  # (time, message, size)
        self._held = 0
        self._dropped_lines = 0
        self._dropped_bytes = 0
        self._eof = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="mock-lambda-output")
        self._thread.start()

    @property
    def buffered_bytes(self) -> int:
        """Bytes of an unfinished line held (bounded by one log event plus one read)."""
        with self._lock:
            return self._splitter.buffered

    def _add(self, stamp: int, pieces: list[bytes]) -> None:
        for piece in pieces:
            messages = split_message(piece.decode("utf-8", "replace"))  # U+FFFD takes 3 bytes
            for message in messages:
                size = len(piece) if len(messages) == 1 else len(message.encode())
                self._lines.append((stamp, message, size + EVENT_OVERHEAD_BYTES))
                self._held += size + EVENT_OVERHEAD_BYTES
        while self._held > self.limit_bytes and self._lines:
            size = self._lines.popleft()[2]
            self._held -= size
            self._dropped_lines += 1
            self._dropped_bytes += size

    def _drain_locked(self, reads: int) -> None:
        while not self._eof and reads > 0:
            try:
                chunk = os.read(self._fd, READ_BYTES)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._eof = True
                return
            self._add(_now_ms(), self._splitter.feed(chunk))
            reads -= 1

    def _run(self) -> None:
        while not self._eof:
            try:
                select.select([self._fd], [], [], 0.5)
            except (OSError, ValueError):
                return
            with self._lock:
                self._drain_locked(_READS_PER_TURN)

    def take(self) -> list[tuple[int, str]]:
        """All lines written so far and not yet taken (a trailing partial line included)."""
        with self._lock:
            self._drain_locked(_READS_PER_TAKE)
            self._add(_now_ms(), self._splitter.flush())
            lines = [(stamp, message) for stamp, message, _ in self._lines]
            self._lines.clear()
            self._held = 0
            if self._dropped_lines:
                stamp = lines[0][0] if lines else _now_ms()
                note = (
                    f"[mock account] {self._dropped_lines:,} earlier lines "
                    f"({self._dropped_bytes:,} bytes) of this output were dropped: the mock "
                    f"account keeps the last {self.limit_bytes:,} bytes of one invocation's "
                    "output (AWS keeps all of it)."
                )
                lines.insert(0, (stamp, note))
                self._dropped_lines = self._dropped_bytes = 0
            return lines

    def finish(self) -> list[tuple[int, str]]:
        """After the worker exited: wait for the reader to reach end of file, then take the rest."""
        self._thread.join(timeout=2)
        lines = self.take()
        with contextlib.suppress(OSError):
            os.close(self._fd)
        return lines
