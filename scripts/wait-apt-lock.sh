#!/usr/bin/env bash
# Waits (bounded) until no process holds the apt/dpkg locks, saying who holds them and for how long it has
# waited, so that installing test dependencies does not die at once when unattended-upgrades or another
# apt-get runs, nor hang silently. Exit 0 when the locks are free, 1 after the timeout.
#   ORCAPREP_APT_LOCK_TIMEOUT  seconds to wait at most (default 600)
#   ORCAPREP_APT_LOCK_POLL     seconds between checks (default 5)
#   ORCAPREP_APT_LOCKS         space-separated lock files (default: dpkg's and apt's)
set -euo pipefail
timeout="${ORCAPREP_APT_LOCK_TIMEOUT:-600}"
poll="${ORCAPREP_APT_LOCK_POLL:-5}"
locks="${ORCAPREP_APT_LOCKS:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock}"

# holder prints "NAME (pid N) holds FILE" for the first lock held, nothing when all are free. dpkg and apt
# take fcntl locks, which F_GETLK reports with the holder's pid; python3 is the portable way to ask.
holder() {
  command -v python3 >/dev/null 2>&1 || return 0
  python3 - $locks <<'PY'
import fcntl, os, struct, sys
for path in sys.argv[1:]:
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        continue
    try:
        got = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
    except OSError:
        continue
    finally:
        os.close(fd)
    kind, _, _, _, pid = struct.unpack("hhqqi", got)
    if kind != fcntl.F_UNLCK:
        try:
            name = open(f"/proc/{pid}/comm").read().strip()
        except OSError:
            name = "a process"
        print(f"{name} (pid {pid}) holds {path}")
        break
PY
}

start=$SECONDS
told=-1
while h="$(holder)"; [ -n "$h" ]; do
  waited=$((SECONDS - start))
  if [ $((waited / 30)) -ne "$told" ]; then # say so at once, then every 30 s
    told=$((waited / 30))
    echo "wait-apt-lock: $h; waiting for it to finish (${waited}s of at most ${timeout}s)" >&2
  fi
  if [ "$waited" -ge "$timeout" ]; then
    echo "wait-apt-lock: $h after ${timeout}s of waiting; giving up (ORCAPREP_APT_LOCK_TIMEOUT raises the limit)" >&2
    exit 1
  fi
  sleep "$poll"
done
