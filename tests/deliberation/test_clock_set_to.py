"""``clock.set_to``: the demo tells each step of its stories at its own moment, and the
clock is put back afterwards, even when the block fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deliberation import clock
from deliberation.context import AppContext, entered


def test_the_clock_reads_the_moment_in_the_block_and_is_put_back() -> None:
    with entered(AppContext()):
        clock.set_offset(3600)
        moment = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
        with clock.set_to(moment):
            assert abs(clock.utcnow() - moment) < timedelta(seconds=5)
            assert clock.china_today().isoformat() == "2026-03-02"
        assert clock.offset_seconds() == 3600
        with pytest.raises(RuntimeError), clock.set_to(moment):
            raise RuntimeError
        assert clock.offset_seconds() == 3600
        with pytest.raises(ValueError), clock.set_to(datetime(2026, 3, 2)):
            pass
