"""A small HTTP/1.1 load generator on asyncio, for benchmarks that need many requests in flight.

Two ways to drive a server:

* :func:`closed_loop` -- ``concurrency`` clients each send the next request as soon as the last one is
  answered, for ``duration`` seconds: the maximum rate the server sustains.
* :func:`open_loop` -- requests start at a fixed ``rate`` whatever the server does, and each latency is
  counted from the moment its request was due (not from when a connection became free), so a server
  that falls behind shows it in p99 instead of hiding it (no coordinated omission).

A request is ``(method, path, headers, body)`` built by a callable given the request's sequence number,
so every request can carry its own body (unique emails, idempotency keys). gunicorn's sync workers
close the connection after each answer; a new connection is opened whenever the last one was closed.
"""
from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

Request = tuple[str, str, dict, bytes]


@dataclass
class Outcome:
    """Every answer of a run: latencies in ms, statuses, and what the caller chose to keep of 2xx bodies."""

    started: float
    finished: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    kept: list = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    def summary(self) -> dict:
        seconds = self.finished - self.started
        ordered = sorted(self.latencies) or [0.0]
        return {
            "requests": len(self.latencies) + sum(self.errors.values()),
            "ok": self.ok,
            "statuses": dict(sorted(self.statuses.items())),
            "errors": dict(self.errors),
            "seconds": round(seconds, 2),
            "throughput": self.ok / seconds if seconds else 0.0,
            "p50": statistics.median(ordered),
            "p99": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        }


class _Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def send(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed before answering")
        status = int(status_line.split()[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _sep, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        payload = await self.reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None


async def _one(conn: _Connection, request: Request, due: float, outcome: Outcome, keep) -> None:
    try:
        status, payload = await conn.send(*request)
    except (OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
        await conn.close()
        outcome.errors[type(exc).__name__] += 1
        return
    outcome.latencies.append((time.perf_counter() - due) * 1000)
    outcome.statuses[status] += 1
    if keep is not None and 200 <= status < 300:
        outcome.kept.append(keep(request, payload))


async def _closed(host, port, make: Callable[[int], Request], concurrency: int, duration: float, keep) -> Outcome:
    outcome = Outcome(started=time.perf_counter())
    deadline = outcome.started + duration
    counter = iter(range(10**12))

    async def client():
        conn = _Connection(host, port)
        while time.perf_counter() < deadline:
            request = make(next(counter))
            await _one(conn, request, time.perf_counter(), outcome, keep)
        await conn.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    outcome.finished = time.perf_counter()
    return outcome


async def _open(host, port, make: Callable[[int], Request], rate: float, duration: float, keep) -> Outcome:
    outcome = Outcome(started=time.perf_counter())
    idle: list[_Connection] = []
    pending = set()

    async def fire(n: int, due: float):
        conn = idle.pop() if idle else _Connection(host, port)
        await _one(conn, make(n), due, outcome, keep)
        idle.append(conn)

    total = int(rate * duration)
    for n in range(total):
        due = outcome.started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(fire(n, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    outcome.finished = time.perf_counter()
    for conn in idle:
        await conn.close()
    return outcome


def _in_own_thread(coroutine) -> Outcome:
    """Run on an event loop of its own thread: the caller's thread may already run a loop (a test
    session that used Playwright's sync API does), and asyncio.run refuses to nest."""
    result: dict = {}

    def target():
        try:
            result["outcome"] = asyncio.run(coroutine)
        except BaseException as exc:  # handed to the caller below
            result["error"] = exc

    thread = threading.Thread(target=target, name="loadgen")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["outcome"]


def closed_loop(host: str, port: int, make, concurrency: int, duration: float, keep=None) -> Outcome:
    return _in_own_thread(_closed(host, port, make, concurrency, duration, keep))


def open_loop(host: str, port: int, make, rate: float, duration: float, keep=None) -> Outcome:
    return _in_own_thread(_open(host, port, make, rate, duration, keep))
