"""Background work a stage leaves running: waited for at once outside an `overlapping` block, else when the
block settles or ends; every piece is waited for, and the first error raised."""

import pytest

from pipeline.parallel import later, overlapping, settle


def test_outside_a_block_the_wait_happens_at_once():
    waited = []
    later(lambda: waited.append(1))
    assert waited == [1]


def test_inside_a_block_waits_happen_at_settle_in_order_and_at_the_end():
    waited = []
    with overlapping():
        later(lambda: waited.append("a"))
        later(lambda: waited.append("b"))
        assert waited == []
        settle()
        assert waited == ["a", "b"]
        later(lambda: waited.append("c"))
    assert waited == ["a", "b", "c"]


def test_every_wait_runs_and_the_first_error_is_raised():
    waited = []

    def fails(text):
        def wait():
            waited.append(text)
            raise ValueError(text)
        return wait

    with pytest.raises(ValueError, match="first"):
        with overlapping():
            later(fails("first"))
            later(fails("second"))
            later(lambda: waited.append("third"))
    assert waited == ["first", "second", "third"]


def test_an_error_of_the_block_wins_over_one_of_the_background_work():
    waited = []

    def wait():
        waited.append("waited")
        raise ValueError("background")

    with pytest.raises(KeyError):
        with overlapping():
            later(wait)
            raise KeyError("block")
    assert waited == ["waited"]


def _square(x):
    return x * x


def test_forked_map_gives_the_serial_results_in_order(monkeypatch):
    from pipeline.parallel import forked_map

    jobs = [(_square, x) for x in range(23)] + [(str, 5)]
    monkeypatch.setenv("PULSE_WORKERS", "3")
    assert forked_map(jobs) == forked_map(jobs, processes=1) == [x * x for x in range(23)] + ["5"]
    assert forked_map([]) == []
