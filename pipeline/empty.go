package pipeline

import (
	"strconv"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/stats"
)

// checkKeptRows fails a run that kept no row: an empty dataset is never what a recipe is for, Axolotl refuses an
// empty datasets: list, and exit 0 would hide the cause. The error names the reason that dropped the most rows.
// It is an input error (exit 3): the recipe is valid, the data it met left nothing.
func checkKeptRows(l *stats.Ledger) error {
	if l.RowsKept > 0 {
		return nil
	}
	if l.RowsRead == 0 {
		return exitcode.Errorf(exitcode.Input, "the inputs hold no rows; nothing written")
	}
	top, n := "", int64(-1)
	for _, reason := range stats.SortedKeys(l.Dropped) { // sorted: ties go to the first name, deterministically
		if l.Dropped[reason] > n {
			top, n = reason, l.Dropped[reason]
		}
	}
	return exitcode.Errorf(exitcode.Input, "kept 0 of %d rows: most were dropped as %s (%d rows; all reasons: %s); nothing written",
		l.RowsRead, top, n, dropSummary(l))
}

func dropSummary(l *stats.Ledger) string {
	s := ""
	for i, reason := range stats.SortedKeys(l.Dropped) {
		if i > 0 {
			s += ", "
		}
		s += reason + " " + strconv.FormatInt(l.Dropped[reason], 10)
	}
	return s
}

func inputBaseNames(inputs []Input) []string {
	names := make([]string, len(inputs))
	for i, in := range inputs {
		names[i] = in.Name
	}
	return names
}
