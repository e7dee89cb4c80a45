"""The failed-auth limiter's window arithmetic and its memory bound (the server test covers the HTTP side)."""

from __future__ import annotations

from agent.middleware import AuthFailureLimiter


def test_lockout_starts_at_the_limit_and_ends_when_the_window_moves_on() -> None:
    limiter = AuthFailureLimiter(max_failures=3, window_s=10.0)
    for now in (0.0, 1.0, 2.0):
        assert limiter.retry_after("a", now) is None
        limiter.record_failure("a", now)
    assert limiter.retry_after("a", 2.5) == 7.5  # the first failure leaves the window at t=10
    assert limiter.retry_after("a", 10.0) is None  # one failure expired: one more try allowed
    limiter.record_failure("a", 10.0)
    assert limiter.retry_after("a", 10.0) == 1.0  # failures at 1, 2, 10: the one at t=1 expires at t=11
    assert limiter.retry_after("b", 10.0) is None


def test_memory_is_bounded_by_the_number_of_clients() -> None:
    limiter = AuthFailureLimiter(max_failures=2, window_s=60.0, max_clients=100)
    for index in range(10_000):
        limiter.record_failure(f"10.0.{index // 256}.{index % 256}", float(index) / 1000)
    assert len(limiter._failures) == 100
    for _ in range(50):
        limiter.record_failure("one", 1.0)
    assert len(limiter._failures["one"]) == 2
