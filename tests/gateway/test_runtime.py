"""The runtime measurements: collector pauses and event-loop lag reach /metrics; the tuning freezes start-up."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator

import pytest
from prometheus_client import generate_latest

from gateway import runtime
from gateway.metrics import REGISTRY


def sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return value or 0.0


@pytest.fixture
def collector_defaults() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()


async def test_collections_and_loop_lag_are_measured(collector_defaults: None) -> None:
    before_count = sample("fir_gc_pause_seconds_count", generation="2")
    before_lag = sample("fir_event_loop_lag_seconds_count")
    async with runtime.measured_runtime(tune=False):
        gc.collect()
        await asyncio.sleep(runtime.PROBE_INTERVAL)
        time.sleep(0.03)  # holds the loop: the probe fires late  # noqa: ASYNC251
        await asyncio.sleep(2 * runtime.PROBE_INTERVAL)
    assert sample("fir_gc_pause_seconds_count", generation="2") == before_count + 1
    assert sample("fir_gc_cpu_seconds_total", generation="2") > 0
    assert sample("fir_event_loop_lag_seconds_count") > before_lag
    assert sample("fir_event_loop_lag_max_seconds") >= 0.02
    text = generate_latest(REGISTRY).decode()
    assert "fir_gc_pause_max_seconds" in text


async def test_no_measurement_after_shutdown(collector_defaults: None) -> None:
    async with runtime.measured_runtime(tune=False):
        pass
    before = sample("fir_gc_pause_seconds_count", generation="2")
    gc.collect()
    assert sample("fir_gc_pause_seconds_count", generation="2") == before


async def test_tuning_freezes_start_up_and_collects_the_young_less_often(collector_defaults: None) -> None:
    gc.unfreeze()
    async with runtime.measured_runtime(tune=True):
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == runtime.GEN0_THRESHOLD


async def test_the_young_threshold_is_configurable(collector_defaults: None) -> None:
    async with runtime.measured_runtime(tune=True, young_threshold=5_000):
        assert gc.get_threshold()[0] == 5_000


async def test_untuned_leaves_the_defaults(collector_defaults: None) -> None:
    gc.unfreeze()
    threshold = gc.get_threshold()
    async with runtime.measured_runtime(tune=False):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == threshold
