"""Who holds a served port's connections, read from the kernel (``/proc``,
Linux): the tests of the workers' connection spread and the benchmarks that
print it."""

from __future__ import annotations

import os
from pathlib import Path


def workers_of(pid: int) -> list[int]:
    """The uvicorn workers the `salesops serve` process ``pid`` started (not
    multiprocessing's resource tracker)."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split():
            try:
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
            except OSError:
                continue  # ended meanwhile
    return found


def established(port: int) -> set[str]:
    """Socket inodes of the established TCP connections whose local port is
    ``port`` (the server's ends)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def held(pid: int, inodes: set[str]) -> int:
    """How many of those connections process ``pid`` holds."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:[") and target[8:-1] in inodes:
            count += 1
    return count


def spread(pid: int, port: int) -> list[int]:
    """The connections to ``port`` each worker of the serve ``pid`` holds, most
    first (one worker: the serve process itself)."""
    inodes = established(port)
    pids = workers_of(pid) or [pid]
    return sorted((held(p, inodes) for p in pids), reverse=True)
