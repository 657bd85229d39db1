//go:build !race

package filter

// poolLossy: see poolrace_on_test.go.
const poolLossy = false
