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


def time_gets(base_url: str, path: str, count: int, warmup: int = 100, headers: dict | None = None) -> dict:
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    samples = []
    for i in range(warmup + count):
        start = time.perf_counter()
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]!r}")
        if i >= warmup:
            samples.append(elapsed * 1000)
    conn.close()
    return {
        "count": count,
        "p50": statistics.median(samples),
        "p99": percentile(samples, 99),
        "mean": statistics.fmean(samples),
    }
