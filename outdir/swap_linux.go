//go:build linux

package outdir

import (
	"errors"

	"golang.org/x/sys/unix"
)

// exchange atomically swaps two existing paths (renameat2 RENAME_EXCHANGE, Linux ≥ 3.15 on ext4, xfs,
// btrfs, tmpfs and most local filesystems). ok is false when the filesystem does not support it.
func exchange(a, b string) (ok bool, err error) {
	if forceFallback {
		return false, nil
	}
	err = unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return false, nil
	}
	return true, err
}

// renameNoReplace moves a to b only if b does not exist. ok is false when unsupported.
func renameNoReplace(a, b string) (ok bool, err error) {
	if forceFallback {
		return false, nil
	}
	err = unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return false, nil
	}
	return true, err
}
