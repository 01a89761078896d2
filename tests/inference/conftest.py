"""Close the estimate subscribers a test opened, whether it passed or not."""

from __future__ import annotations

from collections.abc import Iterator

import inference_support
import pytest


@pytest.fixture(autouse=True)
def close_estimate_subscribers() -> Iterator[None]:
    yield
    while inference_support.OPEN:
        inference_support.OPEN.pop().close()
