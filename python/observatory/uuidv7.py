"""UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits; the event ID and the lake's dedup key."""

from __future__ import annotations

import os
import time


def uuidv7() -> str:
    value = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10))
    value[6] = 0x70 | (value[6] & 0x0F)
    value[8] = 0x80 | (value[8] & 0x3F)
    text = value.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
