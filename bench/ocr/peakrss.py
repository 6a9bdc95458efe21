#!/usr/bin/python3
"""Run a command; record its wall time and peak memory, without cgroups.

    peakrss.py OUT.json CMD [ARG...]

Writes {"seconds", "cpu_seconds", "rc", "peak_tree_mib", "max_proc_mib"} to OUT.json:
  cpu_seconds    user + system CPU time of the whole tree (the processes waited
                 for), less sensitive than wall time to other jobs on the cores;
  peak_tree_mib  the highest sum of the resident sets of the command and all
                 its descendants seen while it ran (sampled from /proc every
                 0.1 s; shared pages count once per process, so this is an
                 upper bound of what the tool needs at once);
  max_proc_mib   the largest peak resident set of any single process of the
                 tree (getrusage RUSAGE_CHILDREN ru_maxrss, what GNU time -v
                 reports as "Maximum resident set size").
The command's own exit status is this script's exit status.
"""
import json
import os
import resource
import subprocess
import sys
import time

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root):
    kids, rss = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, "rb") as f:
                st = f.read()
            ppid = int(st[st.rindex(b")") + 2:].split()[1])
            with open("/proc/%s/statm" % d, "rb") as f:
                rss[int(d)] = int(f.read().split()[1]) * PAGE
            kids.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += kids.get(p, [])
    return total


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    out, cmd = sys.argv[1], sys.argv[2:]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd)
    peak = 0
    while p.poll() is None:
        peak = max(peak, tree_rss(p.pid))
        time.sleep(0.1)
    secs = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    maxproc = ru.ru_maxrss * 1024
    with open(out, "w") as f:
        json.dump({"seconds": round(secs, 3), "cpu_seconds": round(ru.ru_utime + ru.ru_stime, 3),
                   "rc": p.returncode, "peak_tree_mib": round(peak / 2**20, 1),
                   "max_proc_mib": round(maxproc / 2**20, 1)}, f)
    return p.returncode


if __name__ == "__main__":
    sys.exit(main())
