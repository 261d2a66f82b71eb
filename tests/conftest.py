"""Fixtures: a real RabbitMQ vhost per session, settings per test, app processes for e2e."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from resizeq.settings import Settings
from tests.support.broker import ScratchVhost, require_broker
from tests.support.stack import Stack


@pytest.fixture(scope="session")
def vhost() -> Iterator[ScratchVhost]:
    require_broker()
    test_vhost = ScratchVhost()
    test_vhost.create()
    yield test_vhost
    test_vhost.delete()


@pytest.fixture
def settings(vhost: ScratchVhost, tmp_path: Path) -> Settings:
    """Settings for one test: its own queue on the session's vhost, its own storage."""
    return replace(
        Settings(),
        amqp_url=vhost.url,
        storage_dir=tmp_path / "data",
        queue_name=f"resizeq.test.{uuid.uuid4().hex[:8]}",
        publish_timeout_s=5.0,
    )


@pytest.fixture
def stack(vhost: ScratchVhost, tmp_path: Path) -> Iterator[Stack]:
    """An empty stack; tests start the API and consumers they need."""
    running = Stack(vhost.url, tmp_path)
    yield running
    running.stop()
