"""The seccomp deny-list loaded into every sandboxed process (through ``bwrap --seccomp FD``).

Why a deny-list and not an allow-list: PyTorch, OpenBLAS, CUDA and DataLoader workers use a wide, version-
dependent set of syscalls; an allow-list breaks real training code in ways that are hard to diagnose. The
namespaces already hide the host; this filter removes the kernel attack surface a training job never needs
(tracing, mounting, new namespaces, BPF, perf, keyrings, module loading, io_uring) and every socket family but
AF_UNIX (the network namespace has no interfaces anyway; this is defence in depth). Denied calls fail with
EPERM instead of killing the process, so user code gets an ordinary Python exception with a clear message.

The filter is built once per supervisor process with pyseccomp (libseccomp) and exported as BPF bytes.
"""

from __future__ import annotations

import errno
import functools
import os
import socket
import tempfile

# Syscalls no smoke run needs; names unknown to this kernel/arch are skipped.
DENIED_SYSCALLS: tuple[str, ...] = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsmount",
    "fsconfig",
    "fspick",
    "mount_setattr",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "syslog",
    "quotactl",
    "lookup_dcookie",
    "open_by_handle_at",
    "name_to_handle_at",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "vhangup",
    "personality",
)

ALLOWED_SOCKET_FAMILY = socket.AF_UNIX


@functools.lru_cache(maxsize=1)
def deny_list_bpf() -> bytes:
    """The compiled filter as raw BPF (cached: building it takes a few milliseconds)."""
    import pyseccomp as seccomp  # lazy: loads libseccomp through ctypes

    flt = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    deny = seccomp.ERRNO(errno.EPERM)
    for name in DENIED_SYSCALLS:
        try:
            flt.add_rule(deny, name)
        except (RuntimeError, ValueError, OSError):
            continue  # not a syscall on this architecture
    # socket(2)/socketpair(2): only AF_UNIX (DataLoader workers pass tensors over Unix sockets).
    for name in ("socket", "socketpair"):
        flt.add_rule(
            seccomp.ERRNO(errno.EAFNOSUPPORT), name, seccomp.Arg(0, seccomp.NE, ALLOWED_SOCKET_FAMILY)
        )
    with tempfile.TemporaryFile() as handle:
        flt.export_bpf(handle)
        handle.seek(0)
        return handle.read()


def bpf_fd() -> int:
    """A fresh readable fd holding the filter at offset 0 (bwrap reads it to the end; one fd per run)."""
    data = deny_list_bpf()
    fd = os.memfd_create("mlagent-seccomp", 0)
    try:
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd
