// Package progress reports long-running work on stderr: a live bar on a terminal, one plain line
// every ~10 s otherwise (so CI logs do not fill with carriage-return frames), or nothing when quiet.
package progress
