//go:build race

package filter

// poolLossy: under -race, sync.Pool drops a quarter of its Puts on purpose, so allocation counts of pooled
// paths are not zero there.
const poolLossy = true
