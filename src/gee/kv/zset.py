"""The sorted set value: a member->score dict beside a SortedList of (score, member).

The dict answers ZSCORE and membership in O(1); the SortedList gives O(log n) rank, range and
insert, ordered by score then member bytes exactly as Redis's skiplist orders them.
sortedcontainers was measured against a hand-written skip list and wins in Python: its lists of
lists keep the work in C-level list operations.
"""

from __future__ import annotations

from sortedcontainers import SortedList


class ZSet:
    """A Redis sorted set."""

    __slots__ = ("big", "dict", "list")

    def __init__(self) -> None:
        self.dict: dict[bytes, float] = {}
        self.list: SortedList = SortedList()
        # True once Redis would have converted the set from listpack to skiplist encoding.
        self.big = False

    def __len__(self) -> int:
        return len(self.dict)

    def add(self, member: bytes, score: float) -> None:
        """Insert ``member`` or move it to ``score``. A small set's -0 is 0: Redis's listpack
        stores an integral score as an integer."""
        if not score and not self.big:
            score = 0.0
        old = self.dict.get(member)
        if old is not None:
            if old == score:
                return
            self.list.remove((old, member))
        self.dict[member] = score
        self.list.add((score, member))

    def remove(self, member: bytes) -> bool:
        """Remove ``member``; return whether it was there."""
        score = self.dict.pop(member, None)
        if score is None:
            return False
        self.list.remove((score, member))
        return True

    def rank(self, member: bytes) -> int | None:
        """0-based rank by ascending score, or None when absent."""
        score = self.dict.get(member)
        if score is None:
            return None
        return int(self.list.index((score, member)))

    def count_score(self, lo: float, lo_ex: bool, hi: float, hi_ex: bool) -> int:
        """How many members have a score within the interval."""
        start, stop = self.score_span(lo, lo_ex, hi, hi_ex)
        return max(0, stop - start)

    def score_span(self, lo: float, lo_ex: bool, hi: float, hi_ex: bool) -> tuple[int, int]:
        """Index range [start, stop) of members whose score is within the interval."""
        sl = self.list
        start = sl.bisect_right((lo, _MAX_MEMBER)) if lo_ex else sl.bisect_left((lo, b""))
        stop = sl.bisect_left((hi, b"")) if hi_ex else sl.bisect_right((hi, _MAX_MEMBER))
        return int(start), int(stop)

    def lex_span(
        self, lo: bytes | None, lo_ex: bool, hi: bytes | None, hi_ex: bool
    ) -> tuple[int, int]:
        """Index range [start, stop) of members within a lex interval (None = unbounded).

        Redis assumes equal scores for lex ranges; when they differ it still answers by
        scanning in score order, which the linear path below reproduces.
        """
        sl = self.list
        n = len(sl)
        if n == 0:
            return 0, 0
        if sl[0][0] == sl[-1][0]:
            score = sl[0][0]
            if lo is None:
                start = 0
            elif lo_ex:
                start = sl.bisect_right((score, lo))
            else:
                start = sl.bisect_left((score, lo))
            if hi is None:
                stop = n
            elif hi_ex:
                stop = sl.bisect_left((score, hi))
            else:
                stop = sl.bisect_right((score, hi))
            return int(start), int(max(start, stop))
        start = 0
        while start < n:
            member = sl[start][1]
            if lo is None or (member > lo if lo_ex else member >= lo):
                break
            start += 1
        stop = start
        while stop < n:
            member = sl[stop][1]
            if hi is not None and not (member < hi if hi_ex else member <= hi):
                break
            stop += 1
        return start, stop


class _MaxMember(bytes):
    """Sorts after every bytes value, to bisect past all members of one score."""

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return True


_MAX_MEMBER = _MaxMember(b"\xff" * 8)
