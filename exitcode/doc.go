// Package exitcode maps every user-facing error to one documented process exit code, in one place.
package exitcode
