"""Persistence for gee.kv: Redis's RDB snapshot format, the pieces it is built from, the AOF.

The leaves import nothing of gee: ``lzf`` (the string compressor RDB uses), ``crc64`` (the
checksum in every RDB file and DUMP payload) and ``rdb`` (the file and value codec), which
speaks only Python values (``bytes``, ``deque`` of RESP-encoded elements, ``dict``, ``set``,
``ZSet``). ``snapshot`` connects them to a running server (SAVE, BGSAVE, load on start), and
``aof`` is the append-only file (propagation, group commit, replay, rewrite).
"""
