//go:build race

package filter_test

// raceEnabled shrinks the large statistical tests under -race, which runs them 10–20× slower.
const raceEnabled = true
