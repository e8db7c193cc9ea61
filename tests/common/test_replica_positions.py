"""domains/common/replica.py's memory of callers' last write positions, shared with the
processes forked after it was made (`opsgraph serve --processes N`)."""

from __future__ import annotations

import multiprocessing

from domains.common.replica import WritePositions


def _write_in_child(positions: WritePositions) -> None:
    positions.raise_to("key:abc", 2_000)
    positions.raise_to("key:abc", 1_000)  # an earlier commit finishing later lowers nothing


def test_a_write_recorded_by_a_forked_process_is_known_to_the_others() -> None:
    positions = WritePositions()
    positions.raise_to("dn:/CN=other", 5)
    child = multiprocessing.get_context("fork").Process(target=_write_in_child, args=(positions,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert positions.get("key:abc") == 2_000
    assert positions.get("dn:/CN=other") == 5
    assert positions.get("sub:issuer|nobody") == 0
