// Package stats keeps the row ledger and the run statistics written to stats.json: every input row
// is counted as kept or dropped under a named reason, and the counts must add up.
package stats
