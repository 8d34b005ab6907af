#!/usr/bin/env python3
"""Seeds of fuzz_pitr_replay_wal (its input format: tests/fuzz/fuzz_pitr_replay_wal.c).

    tests/fuzz/gen-wal-seeds.py [KEEP_WAL_DIR [GEN_PITR_DIR]]

Writes tests/fuzz/corpus/fuzz_pitr_replay_wal/gen-*: small WAL streams laid
out as PostgreSQL does (a checkpoint at the redo point, commits, aborts with
subtransactions, restore points, a parameter change, the end-of-backup
record, a record over pages, XLOG_SWITCH), sealed by the harness (flags 7).
With KEEP_WAL_DIR (what PITR_TEST_KEEP_WAL=DIR test_pitr_replay_walread
writes: segments 1 to 3 of timeline 1), also slices of that WAL, trimmed to
the first 24 KB of segment 1 and to the pages around the 1|2 boundary.
With GEN_PITR_DIR (tests/data/gen-pitr.sh's output), the start of its
segment 2, where its plain backup starts: real PostgreSQL records, laid
into the harness's 1 MB segment 1 (the harness rewrites the page headers
and prev-links, so flags 7).
"""
import os
import struct
import sys

SEG = 1 << 20
PAGE = 8192
SYSID = 7345012345678901234
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "fuzz_pitr_replay_wal")
T0 = (1709294282 - 946684800) * 1000000  # 2024-03-01 11:58:02 UTC


def main_data(data):
    if len(data) < 256:
        return bytes([255, len(data)]) + data
    return bytes([254]) + struct.pack("<I", len(data)) + data


def record(rmid, info, xid, data):
    body = main_data(data)
    tot = 24 + len(body)
    return struct.pack("<IIQBBHI", tot, xid, 0, info, rmid, 0, 0) + body


class Stream:
    """Records from LSN BASE on, with room left for the page headers."""

    def __init__(self, base):
        self.base = base
        self.buf = bytearray()
        self.pos = base  # next LSN
        self.lsns = []

    def _skip_header(self):
        if self.pos % PAGE == 0:
            n = 40 if self.pos % SEG == 0 else 24
            self.buf += bytes(n)
            self.pos += n

    def add(self, rec):
        self._skip_header()
        self.lsns.append(self.pos)
        i = 0
        while i < len(rec):
            self._skip_header()
            take = min(len(rec) - i, PAGE - self.pos % PAGE)
            self.buf += rec[i:i + take]
            self.pos += take
            i += take
        pad = (-self.pos) % 8
        self.buf += bytes(pad)
        self.pos += pad
        return self.lsns[-1]


def checkpoint(redo, t_unix, online=True):
    cp = struct.pack("<QIIB7xQIIIIIII", redo, 1, 1, 1, (1 << 32) | 740,
                     24576, 1, 0, 716, 1, 1, 1)
    cp = cp.ljust(64, b"\0") + struct.pack("<q", t_unix) + bytes(16)
    return record(0, 0x10 if online else 0x00, 0, cp)


def commit(xid, t, abort=False):
    return record(1, 0x20 if abort else 0x00, xid, struct.pack("<q", t))


def abort_subxacts(xid, t):
    # XLOG_XACT_HAS_INFO, xinfo HAS_SUBXACTS (0x02), 2 subxacts
    return record(1, 0x20 | 0x80, xid,
                  struct.pack("<qIiII", t, 0x02, 2, xid + 1, xid + 2))


def restore_point(name, t):
    return record(0, 0x70, 0, struct.pack("<q", t) + name.encode().ljust(64, b"\0"))


def header(flags, kind, major, place, redo_off, ckpt_off, value):
    return struct.pack("<BBBBHHQ", flags, kind, major, place, redo_off // 8,
                       ckpt_off // 8, value)


def write(name, head, body):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(head + body)


def backup_stream(base, big=False):
    s = Stream(base)
    redo = s.add(checkpoint(0, 1709294282))
    s.add(record(10, 0x00, 699, bytes(range(40))))
    s.add(commit(700, T0 + 1000000))
    s.add(record(0, 0x60, 0, struct.pack("<iiiii", 100, 8, 10, 0, 64) + bytes(12)))
    s.add(record(0, 0x50, 0, struct.pack("<Q", redo)))
    s.add(restore_point("pitr_rp1", T0 + 1000001))
    if big:
        s.add(record(10, 0x00, 701, bytes(range(256)) * 40))
    s.add(abort_subxacts(702, T0 + 2000000))
    s.add(commit(703, T0 + 3000000))
    s.add(record(0, 0x40, 0, b""))  # XLOG_SWITCH
    return s, redo


def generated():
    s, redo = backup_stream(SEG)
    off = redo - SEG
    write("gen-backup-to-end", header(7, 0, 2, 0, off, off, 0), s.buf)
    write("gen-time-target", header(7, 1, 2, 0, off, off, T0 + 1500000), s.buf)
    write("gen-xid-target", header(7, 3 | 8, 2, 0, off, off, 702), s.buf)
    name = struct.unpack("<Q", b"pitr_rp1")[0]
    write("gen-name-target", header(7, 4, 2, 0, off, off, name), s.buf)
    write("gen-immediate", header(7, 5, 3, 0, off, off, 0), s.buf)
    write("gen-standby-learn", header(7 | 16, 0, 128, 0, off, off, 0), s.buf)
    write("gen-no-backup", header(7 | 8, 0, 2, 0, off, off, 0), s.buf)
    s, redo = backup_stream(SEG, big=True)
    write("gen-lsn-target-big", header(7, 2, 4, 0, redo - SEG, redo - SEG,
                                       s.lsns[-3] - SEG), s.buf)
    # across the 1|2 boundary, segment 3 on timeline 2
    base = 2 * SEG - PAGE
    s, redo = backup_stream(base, big=True)
    write("gen-cross-boundary", header(7 | 128, 0, 2 | 64, 1, redo - base,
                                       redo - base, 0), s.buf)
    write("gen-cross-partial", header(7 | 32, 0, 2, 1, redo - base,
                                      redo - base, 0), s.buf)
    write("gen-cross-gap", header(7 | 64, 0, 2 | 64, 1, redo - base,
                                  redo - base, 0), s.buf)


def slices(keep):
    with open(os.path.join(keep, "000000010000000000000001"), "rb") as f:
        seg1 = f.read()
    with open(os.path.join(keep, "000000010000000000000002"), "rb") as f:
        seg2 = f.read()
    # raw bytes as written: no fixes, from 0/100028
    write("keep-seg1-head", header(0, 0, 2, 0, 40, 40, 0), seg1[:24576])
    write("keep-seg1-head-fixed", header(7, 0, 2, 0, 40, 40, 0), seg1[:24576])
    # the 3 pages before the boundary and 4 after: a record runs over it;
    # no backup, so the first record is found from the page's rem_len
    edge = seg1[-3 * PAGE:] + seg2[:4 * PAGE]
    write("keep-seg1-seg2-edge", header(8, 0, 2, 3, 0, 0, 0), edge)


def real(gen):
    with open(os.path.join(gen, "archive", "000000010000000000000002"), "rb") as f:
        seg2 = f.read(48 * 1024)
    # the backup's redo at 0/2000028 and checkpoint at 0/2000060
    write("real-pg15-seg2-head", header(7, 0, 2, 0, 0x28, 0x60, 0), seg2)
    write("real-pg15-seg2-no-backup", header(7 | 8, 0, 2, 0, 0, 0, 0),
          seg2[:24 * 1024])


def main():
    os.makedirs(OUT, exist_ok=True)
    generated()
    if len(sys.argv) > 1:
        slices(sys.argv[1])
    if len(sys.argv) > 2:
        real(sys.argv[2])


if __name__ == "__main__":
    main()
