//go:build !unix

package outdir

import "os"

// tryLock: without flock, the pid/host record in the lock file alone decides.
func tryLock(f *os.File) (busy, unsupported bool, err error) { return false, true, nil }

// alive cannot tell here; assume the recorded process still runs, so a stale lock is reported, never stolen.
func alive(pid int) bool { return pid > 0 }
