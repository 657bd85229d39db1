//go:build !linux

package outdir

// exchange is unavailable outside Linux: the commit uses the recoverable two-rename fallback.
func exchange(a, b string) (ok bool, err error) { return false, nil }

func renameNoReplace(a, b string) (ok bool, err error) { return false, nil }
