//go:build unix

package outdir

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes an exclusive flock on f without waiting. busy reports that another process holds it;
// unsupported that the filesystem has no flock (then the pid/host record alone decides).
func tryLock(f *os.File) (busy, unsupported bool, err error) {
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case err == nil:
		return false, false, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true, false, nil
	case errors.Is(err, syscall.ENOLCK), errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.ENOSYS):
		return false, true, nil
	}
	return false, false, err
}

// alive reports whether process pid exists on this host (EPERM: it exists but belongs to someone else).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
