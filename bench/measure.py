"""Timing HTTP requests from one client over a kept-alive connection."""
from __future__ import annotations

import http.client
import statistics
import time
from urllib.parse import urlsplit


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(samples: list[float]) -> dict:
    return {
        "count": len(samples),
        "p50": statistics.median(samples),
        "p99": percentile(samples, 99),
        "mean": statistics.fmean(samples),
    }


class Client:
    """One kept-alive connection to a server; :meth:`sample` times ``count`` GETs of one path (ms)."""

    def __init__(self, base_url: str, headers: dict | None = None):
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.headers = headers or {}

    def sample(self, path: str, count: int) -> list[float]:
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - start
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]!r}")
            samples.append(elapsed * 1000)
        return samples

    def close(self) -> None:
        self.conn.close()


def time_gets(base_url: str, path: str, count: int, warmup: int = 100, headers: dict | None = None) -> dict:
    client = Client(base_url, headers)
    try:
        client.sample(path, warmup)
        return summary(client.sample(path, count))
    finally:
        client.close()


def time_interleaved(clients: dict[str, Client], path: str, count: int, rounds: int = 10, warmup: int = 100) -> dict:
    """Time the same path on several servers in alternating rounds, so that a change in the machine's
    load during the run (other work on it) falls on each server alike. Returns a summary per server."""
    samples = {label: [] for label in clients}
    for client in clients.values():
        client.sample(path, warmup)
    for _ in range(rounds):
        for label, client in clients.items():
            samples[label] += client.sample(path, count // rounds)
    return {label: summary(found) for label, found in samples.items()}
