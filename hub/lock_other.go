//go:build !unix

package hub

import "context"

// lockFile is a no-op where flock is unavailable: concurrent pulls of one blob may then both download it,
// but each writes its own verified copy and the rename is atomic.
func lockFile(ctx context.Context, path string, waiting func()) (unlock func(), err error) {
	return func() {}, nil
}
