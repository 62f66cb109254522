"""How much of the pinned CPU other processes took while the suite ran (Linux).

The machines are shared: a median taken while another process runs on the same CPU is slower
than it would be alone. The suite cannot prevent that, but it can say how much it happened:
the CPU's busy time (from /proc/stat) minus the CPU time of the suite's own processes (pytest
and its children, all pinned to that CPU) is what everything else used there. Resolution: the
kernel's clock tick (10 ms): a span shorter than MIN_SPAN_S gets no share.
"""

import os
import resource
import time

# /proc/stat counts in clock ticks (10 ms): over a shorter span than this the share is noise
# (a span of a few milliseconds read as 104%), so none is given.
MIN_SPAN_S = 0.5
# /proc/stat columns after the name: user nice system idle iowait irq softirq steal ...
BUSY_COLUMNS = (0, 1, 2, 5, 6, 7)  # all but idle and iowait; steal: the hypervisor ran others


def cpu_busy_seconds(cpu):
    """Seconds `cpu` has been busy since boot, or None where /proc/stat is unavailable."""
    try:
        with open("/proc/stat") as stat:
            for line in stat:
                fields = line.split()
                if fields[0] == f"cpu{cpu}":
                    ticks = sum(int(fields[1 + i]) for i in BUSY_COLUMNS if 1 + i < len(fields))
                    return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        pass
    return None


def own_cpu_seconds():
    """User + system time of this process (all its threads) and of its finished children (and
    their waited-for children): the suite's own use of the CPU it is pinned to."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class CpuShare:
    """Measures one span: ``share = CpuShare(cpu); ...work, here or in children...;
    share.result()``. report.py measures each pytest run; conftest.py each case's rounds.
    (report.py's own process is not pinned, but does next to nothing while pytest runs.)"""

    def __init__(self, cpu):
        self.cpu = cpu
        self.wall = time.monotonic()
        self.busy = cpu_busy_seconds(cpu)
        self.ours = own_cpu_seconds()

    def result(self):
        """{"wall_s", "busy_s", "suite_s", "others_s", "others_share"} for the span so far
        (busy figures None where they cannot be read, or the span is shorter than MIN_SPAN_S).
        others_share = others_s / wall_s."""
        wall = time.monotonic() - self.wall
        ours = own_cpu_seconds() - self.ours
        busy_now = cpu_busy_seconds(self.cpu)
        if self.busy is None or busy_now is None or wall < MIN_SPAN_S:
            return {"cpu": self.cpu, "wall_s": wall, "suite_s": ours, "busy_s": None,
                    "others_s": None, "others_share": None}
        busy = busy_now - self.busy
        others = max(0.0, busy - ours)
        return {"cpu": self.cpu, "wall_s": wall, "suite_s": ours, "busy_s": busy,
                "others_s": others, "others_share": others / wall if wall > 0 else None}


def describe(share):
    """One line, e.g. "CPU 0: other processes used 23 % of it (48 s of 207 s)"."""
    if share.get("others_share") is None:
        return f"CPU {share['cpu']}: unknown how much other processes used it"
    return (f"CPU {share['cpu']}: other processes used {share['others_share']:.0%} of it"
            f" ({share['others_s']:.0f} s of {share['wall_s']:.0f} s)")
