"""The Fibonacci numbers of the Go demos, which count fib(0) == fib(1) == 1."""

from __future__ import annotations

__all__ = ["fib"]


def fib(n: int) -> int:
    """Return the n-th Fibonacci number as the Go demos define it (1, 1, 2, 3, 5, ...).

    Go's demos recurse; this loops, so fib(90) answers at once in the page. Negative n is 0.
    """
    if n < 0:
        return 0
    a, b = 1, 1
    for _ in range(n):
        a, b = b, a + b
    return a
