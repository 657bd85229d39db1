package stats

import (
	"fmt"
	"sort"
)

// Reasons a row is dropped by the pipeline itself (filters and dedupe add their own names).
const (
	ReasonNotSelected = "not_selected"
	ReasonInvalidUTF8 = "invalid_utf8"
	ReasonTooLong     = "too_long"
)

// SubmixCounts is the ledger of one submix.
type SubmixCounts struct {
	Read    int64            `json:"read"`
	Kept    int64            `json:"kept"`
	Dropped map[string]int64 `json:"dropped"`
}

// Stage records what one pipeline stage saw and removed, in pipeline order.
type Stage struct {
	Name    string           `json:"name"`
	In      int64            `json:"in"`
	Out     int64            `json:"out"`
	Dropped map[string]int64 `json:"dropped"`
}

// Ledger accounts for every input row. It is filled by one goroutine (the ordered merge), so it needs no locks.
type Ledger struct {
	RowsRead int64                    `json:"rows_read"`
	RowsKept int64                    `json:"rows_kept"`
	Dropped  map[string]int64         `json:"dropped"`
	BySubmix map[string]*SubmixCounts `json:"by_submix"`
	// Nulls counts NULL values per column; a NULL is read as "" (and may then be dropped as empty).
	Nulls  map[string]int64 `json:"nulls"`
	Stages []*Stage         `json:"stages"`
}

// NewLedger returns an empty ledger whose stages appear in the given order.
func NewLedger(stages ...string) *Ledger {
	l := &Ledger{Dropped: map[string]int64{}, BySubmix: map[string]*SubmixCounts{}, Nulls: map[string]int64{}}
	for _, s := range stages {
		l.Stages = append(l.Stages, &Stage{Name: s, Dropped: map[string]int64{}})
	}
	return l
}

func (l *Ledger) submix(name string) *SubmixCounts {
	s := l.BySubmix[name]
	if s == nil {
		s = &SubmixCounts{Dropped: map[string]int64{}}
		l.BySubmix[name] = s
	}
	return s
}

func (l *Ledger) stage(name string) *Stage {
	for _, s := range l.Stages {
		if s.Name == name {
			return s
		}
	}
	s := &Stage{Name: name, Dropped: map[string]int64{}}
	l.Stages = append(l.Stages, s)
	return s
}

// Read counts one input row of a submix.
func (l *Ledger) Read(submix string) {
	l.RowsRead++
	l.submix(submix).Read++
}

// Null counts a NULL in column col.
func (l *Ledger) Null(col string) { l.Nulls[col]++ }

// Drop counts a row of submix dropped by stage for reason.
func (l *Ledger) Drop(submix, stage, reason string) {
	l.Dropped[reason]++
	l.submix(submix).Dropped[reason]++
	st := l.stage(stage)
	st.In++
	st.Dropped[reason]++
}

// Keep counts a row that reached the output.
func (l *Ledger) Keep(submix string) {
	l.RowsKept++
	l.submix(submix).Kept++
}

// Pass records that a row went through stage without being dropped.
func (l *Ledger) Pass(stage string) {
	s := l.stage(stage)
	s.In++
	s.Out++
}

// DroppedTotal is the sum of all drops.
func (l *Ledger) DroppedTotal() int64 {
	var n int64
	for _, v := range l.Dropped {
		n += v
	}
	return n
}

// Check verifies that the counts add up: rows_read == rows_kept + Σ dropped, per submix and overall,
// each stage's in == out + dropped, stages chain (first in == rows_read, each in == previous out) and the
// last stage's out == rows_kept. A violation is a bug in orcaprep and fails the run.
func (l *Ledger) Check() error {
	if got := l.RowsKept + l.DroppedTotal(); got != l.RowsRead {
		return fmt.Errorf("ledger does not add up: rows_read %d != rows_kept %d + dropped %d", l.RowsRead, l.RowsKept, l.DroppedTotal())
	}
	var read, kept int64
	for _, name := range sortedKeys(l.BySubmix) {
		s := l.BySubmix[name]
		var d int64
		for _, v := range s.Dropped {
			d += v
		}
		if s.Kept+d != s.Read {
			return fmt.Errorf("ledger does not add up for submix %s: read %d != kept %d + dropped %d", name, s.Read, s.Kept, d)
		}
		read += s.Read
		kept += s.Kept
	}
	if read != l.RowsRead || kept != l.RowsKept {
		return fmt.Errorf("ledger does not add up: submixes read %d kept %d, totals %d/%d", read, kept, l.RowsRead, l.RowsKept)
	}
	// Stages form a chain: every row read enters the first stage, and each stage gets what the one before let out.
	for i, s := range l.Stages {
		want := l.RowsRead
		if i > 0 {
			want = l.Stages[i-1].Out
		}
		if s.In != want {
			return fmt.Errorf("ledger does not add up: stage %s saw %d rows, %d reached it", s.Name, s.In, want)
		}
		var d int64
		for _, v := range s.Dropped {
			d += v
		}
		if s.Out+d != s.In {
			return fmt.Errorf("ledger does not add up for stage %s: in %d != out %d + dropped %d", s.Name, s.In, s.Out, d)
		}
	}
	if n := len(l.Stages); n > 0 && l.Stages[n-1].Out != l.RowsKept {
		return fmt.Errorf("ledger does not add up: last stage %s let %d rows out, %d kept", l.Stages[n-1].Name, l.Stages[n-1].Out, l.RowsKept)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// SortedKeys returns the keys of a count map in order, for stable reports.
func SortedKeys(m map[string]int64) []string { return sortedKeys(m) }
