//go:build race

package dedupe

// raceEnabled shrinks the large statistical tests under -race, which runs them 10–20× slower.
const raceEnabled = true
