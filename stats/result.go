package stats

import (
	"math"
	"sort"
)

// Distributions is the JSON-able summary of a Collector, written under "distributions" in stats.json.
// Every list has a fixed order, so the same rows give the same bytes.
type Distributions struct {
	// Rows and RowsKept are the rows observed and kept; TokenizedRows is how many had a token count.
	Rows          int64 `json:"rows"`
	RowsKept      int64 `json:"rows_kept"`
	TokenizedRows int64 `json:"tokenized_rows"`
	// Submixes are sorted by name; SystemPrompts by rows read (most first), then text. A value beyond
	// MaxGroups distinct ones is counted in the OtherGroup entry (last), and Truncated says so.
	Submixes      []GroupStat `json:"submixes"`
	SystemPrompts []GroupStat `json:"system_prompts"`
	Truncated     bool        `json:"groups_truncated,omitempty"`
	// Lengths has one entry per measure and row set, in Measures order, "all" before "kept";
	// token measures appear only when some row was tokenized.
	Lengths []LengthStat `json:"lengths"`
	// Duplicates describes duplicate clusters (a kept row plus the rows dropped as its duplicates).
	Duplicates DuplicateStat `json:"duplicates"`
	// DropReasons are the TopReasons most frequent reasons, most first (ties by name), with examples.
	DropReasons []ReasonStat `json:"drop_reasons"`
}

// GroupStat counts the rows of one submix or system prompt.
type GroupStat struct {
	Name       string `json:"name"`
	RowsRead   int64  `json:"rows_read"`
	RowsKept   int64  `json:"rows_kept"`
	CharsKept  int64  `json:"chars_kept"`
	TokensKept int64  `json:"tokens_kept"`
}

// LengthStat is the distribution of one measure over one row set.
// Percentiles are nearest-rank and computed from the histogram: exact for values below 2048, otherwise
// the lower bound of a bucket 0.1% wide. Min, Max and Mean are exact.
type LengthStat struct {
	Measure string  `json:"measure"` // one of Measures
	Rows    string  `json:"rows"`    // RowsAll or RowsKept
	Count   int64   `json:"count"`
	Min     int64   `json:"min"`
	Mean    float64 `json:"mean"`
	P50     int64   `json:"p50"`
	P90     int64   `json:"p90"`
	P99     int64   `json:"p99"`
	Max     int64   `json:"max"`
	Sum     int64   `json:"sum"`
	// Bins are log-spaced (DisplayBinsPerOctave per doubling), from the first non-empty to the last.
	Bins []Bin `json:"bins"`
}

// DuplicateStat summarises duplicate clusters.
type DuplicateStat struct {
	// Source is "dedupe" when the dedupe stage reported clusters (ObserveCluster), "duplicate_of" when
	// they were derived from the DuplicateOf of dropped rows, "" when there were none.
	Source        string        `json:"source"`
	Clusters      int64         `json:"clusters"`
	DuplicateRows int64         `json:"duplicate_rows"` // rows dropped as duplicates: Σ (size − 1)
	MaxSize       int64         `json:"max_size"`
	Sizes         []ClusterSize `json:"sizes"` // ascending size
}

// ClusterSize counts the clusters of one size.
type ClusterSize struct {
	Size     int64 `json:"size"`
	Clusters int64 `json:"clusters"`
}

// ReasonStat is one drop reason with the first rows (in input order) dropped for it.
type ReasonStat struct {
	Reason   string    `json:"reason"`
	Rows     int64     `json:"rows"`
	Examples []Example `json:"examples"`
}

// Example is one dropped row.
type Example struct {
	ID          string `json:"id"`
	Detail      string `json:"detail,omitempty"`
	DuplicateOf string `json:"duplicate_of,omitempty"`
}

// Length returns the distribution of measure over rows (RowsAll or RowsKept), or nil.
func (d *Distributions) Length(measure, rows string) *LengthStat {
	if d == nil {
		return nil
	}
	for i := range d.Lengths {
		if d.Lengths[i].Measure == measure && d.Lengths[i].Rows == rows {
			return &d.Lengths[i]
		}
	}
	return nil
}

// Result summarises what was observed. It does not change the collector.
func (c *Collector) Result() Distributions {
	d := Distributions{
		Rows: c.rows, RowsKept: c.kept, TokenizedRows: c.tokRows,
		Submixes:      c.submix.result(func(a, b GroupStat) bool { return a.Name < b.Name }),
		SystemPrompts: c.system.result(byRowsThenName),
		Truncated:     c.submix.full || c.system.full,
		Lengths:       []LengthStat{},
		DropReasons:   []ReasonStat{},
	}
	for m, name := range Measures {
		for s, set := range []string{RowsAll, RowsKept} {
			h := &c.lengths[s][m]
			if name == MeasureSampleTokens && c.tokRows == 0 {
				continue
			}
			d.Lengths = append(d.Lengths, lengthStat(name, set, h))
		}
	}
	d.Duplicates = c.duplicates()
	for k, r := range c.reasons {
		rs := ReasonStat{Reason: k, Rows: r.count, Examples: make([]Example, len(r.examples))}
		for i, e := range r.examples {
			rs.Examples[i] = Example(e)
		}
		d.DropReasons = append(d.DropReasons, rs)
	}
	sort.Slice(d.DropReasons, func(i, j int) bool {
		a, b := d.DropReasons[i], d.DropReasons[j]
		if a.Rows != b.Rows {
			return a.Rows > b.Rows
		}
		return a.Reason < b.Reason
	})
	if len(d.DropReasons) > TopReasons {
		d.DropReasons = d.DropReasons[:TopReasons]
	}
	return d
}

func byRowsThenName(a, b GroupStat) bool {
	if a.RowsRead != b.RowsRead {
		return a.RowsRead > b.RowsRead
	}
	return a.Name < b.Name
}

func (g *groups) result(less func(a, b GroupStat) bool) []GroupStat {
	out := make([]GroupStat, 0, len(g.m)+1)
	for k, c := range g.m {
		out = append(out, GroupStat{Name: k, RowsRead: c.read, RowsKept: c.kept, CharsKept: c.charsKept, TokensKept: c.tokensKept})
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	if g.full {
		c := g.other
		out = append(out, GroupStat{Name: OtherGroup, RowsRead: c.read, RowsKept: c.kept, CharsKept: c.charsKept, TokensKept: c.tokensKept})
	}
	return out
}

func lengthStat(measure, rows string, h *histogram) LengthStat {
	ls := LengthStat{Measure: measure, Rows: rows, Count: h.n, Min: h.min, Max: h.max, Sum: h.sum, Bins: h.bins()}
	if h.n > 0 {
		ls.Mean = math.Round(float64(h.sum)/float64(h.n)*100) / 100
		q := h.quantiles(0.50, 0.90, 0.99)
		ls.P50, ls.P90, ls.P99 = q[0], q[1], q[2]
	}
	return ls
}

func (c *Collector) duplicates() DuplicateStat {
	sizes := c.clusters
	src := "dedupe"
	if len(sizes) == 0 {
		src = "duplicate_of"
		sizes = map[int64]int64{}
		for _, n := range c.dupOf {
			sizes[n+1]++
		}
	}
	d := DuplicateStat{Sizes: []ClusterSize{}}
	for size, n := range sizes {
		if size < 2 {
			continue // a cluster of one is a row without duplicates
		}
		d.Sizes = append(d.Sizes, ClusterSize{Size: size, Clusters: n})
		d.Clusters += n
		d.DuplicateRows += (size - 1) * n
		d.MaxSize = max(d.MaxSize, size)
	}
	if d.Clusters > 0 {
		d.Source = src
	}
	sort.Slice(d.Sizes, func(i, j int) bool { return d.Sizes[i].Size < d.Sizes[j].Size })
	return d
}
