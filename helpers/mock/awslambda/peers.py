"""Who is on the other end of a loopback connection? (Linux: /proc/net/tcp and /proc/PID/fd.)

Each execution environment's Runtime API listens on 127.0.0.1, which every local process can
reach. Lambda's Runtime API is reachable only from inside the sandbox, so the mock answers a
connection only when the socket on the other end belongs to that environment's own processes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable


def _client_socket_inode(client_port: int, server_port: int) -> int | None:
    """The inode of the client-side socket of 127.0.0.1:client_port -> 127.0.0.1:server_port."""
    local, remote = f"0100007F:{client_port:04X}", f"0100007F:{server_port:04X}"
    try:
        with open("/proc/net/tcp") as table:
            next(table, None)
            for line in table:
                fields = line.split()
                if len(fields) > 9 and fields[1] == local and fields[2] == remote:
                    return int(fields[9])
    except OSError:
        return None
    return None


def held_by(client_port: int, server_port: int, pids: Iterable[int]) -> bool | None:
    """Is the client's end of this connection an open file of one of ``pids``?

    None when this machine cannot tell (no /proc/net/tcp, or the processes' descriptors are not
    readable from here).
    """
    if not os.path.exists("/proc/net/tcp"):
        return None
    inode = _client_socket_inode(client_port, server_port)
    if inode is None:
        return False
    wanted = f"socket:[{inode}]"
    readable = False
    for pid in pids:
        try:
            descriptors = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        readable = True
        for descriptor in descriptors:
            try:
                if os.readlink(f"/proc/{pid}/fd/{descriptor}") == wanted:
                    return True
            except OSError:
                continue
    return False if readable else None  # None: not allowed to look (another user namespace)


def owner_of(client_port: int, server_port: int) -> int | None:
    """The pid holding the client's end of this connection (any process here), or None."""
    inode = _client_socket_inode(client_port, server_port)
    if inode is None:
        return None
    wanted = f"socket:[{inode}]"
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            descriptors = os.listdir(f"/proc/{entry}/fd")
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                if os.readlink(f"/proc/{entry}/fd/{descriptor}") == wanted:
                    return int(entry)
            except OSError:
                continue
    return None


def in_container(pid: int, container_id: str) -> bool | None:
    """Does ``pid`` run in the container (its cgroup names the id)? None if unreadable."""
    try:
        with open(f"/proc/{pid}/cgroup") as cgroups:
            return container_id in cgroups.read()
    except OSError:
        return None
