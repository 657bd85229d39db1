package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/orcaprep/orcaprep/stats"
)

// WriteText writes the terminal report: the ledger, drop reasons, submixes, length percentiles with a
// sparkline of each histogram, duplicates, packing and timing, in plain UTF-8 text of at most ~100 columns.
func WriteText(w io.Writer, d *stats.Document) error {
	m := newModel(d)
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }

	p("%s\n", m.Title)
	p("  %-14s %13s\n", "rows read", num(d.RowsRead))
	p("  %-14s %13s  (%s)\n", "rows kept", num(d.RowsKept), pct(ratio(d.RowsKept, d.RowsRead)))
	p("  %-14s %13s\n", "dropped", num(m.Dropped))
	if m.Tokenized {
		p("  %-14s %13s\n", "tokens kept", num(m.TokensKept))
	}
	if len(m.Warnings) > 0 {
		p("\n")
		for _, w := range m.Warnings {
			p("  warning: %s\n", w)
		}
	}
	p("\nCompared with the card (kept %s rows)\n", num(d.RowsKept))
	for i, c := range m.Compare {
		kind := "OpenOrca's filtered set"
		if i == 0 {
			kind = "the GPT-4 subset"
		}
		p("  %-34s %9s  kept = %6s of %s\n", c.Name, num(c.Rows), pct(c.Ratio), kind)
	}

	if !m.Profile {
		p("\nLedger (rows left after each stage)\n")
		for _, s := range m.Steps {
			removed := ""
			if s.Removed > 0 {
				removed = "-" + num(s.Removed)
			}
			p("%s\n", strings.TrimRight(fmt.Sprintf("  %-14s %13s %12s  %s", s.Label, num(s.Rows), removed, s.Reasons), " "))
		}
	}

	if len(m.Reasons) > 0 {
		p("\n  %-22s %11s %7s  %s\n", "dropped because", "rows", "% read", "first examples")
		for _, r := range m.Reasons {
			p("  %-22s %11s %7s  %s\n", r.Reason, num(r.Rows), pct(r.Share), exampleLine(r.Examples, 60))
		}
	}

	p("\n  %-8s %12s %12s %7s", "submix", "read", "kept", "kept%")
	if m.Tokenized {
		p(" %14s", "tokens kept")
	}
	p("\n")
	for _, s := range m.Submixes {
		p("  %-8s %12s %12s %7s", s.Name, num(s.Read), num(s.Kept), pct(s.KeptShare))
		if m.Tokenized {
			p(" %14s", num(s.TokensKept))
		}
		p("\n")
	}

	if len(m.Lengths) > 0 {
		p("\nLengths (kept rows; percentiles from the histogram)\n")
		p("  %-16s %10s %8s %8s %8s %8s  %s\n", "", "rows", "p50", "p90", "p99", "max", "log-binned histogram")
		for _, g := range m.Lengths {
			ls := g.Kept
			if ls == nil || ls.Count == 0 {
				ls = g.All
			}
			if ls == nil {
				continue
			}
			p("  %-16s %10s %8s %8s %8s %8s  %s\n", strings.ReplaceAll(g.Measure, "_", " "), num(ls.Count), num(ls.P50), num(ls.P90), num(ls.P99), num(ls.Max), sparkline(ls.Bins))
		}
	}

	if dd := d.Distributions; dd != nil && dd.Duplicates.Clusters > 0 {
		du := dd.Duplicates
		p("\nDuplicate clusters: %s clusters, %s duplicate rows dropped, largest cluster %s rows\n", num(du.Clusters), num(du.DuplicateRows), num(du.MaxSize))
	}
	if pk := d.Packing; pk != nil {
		p("\nPacking into %s-token sequences: %s samples, %s tokens → %s bins (lower bound %s)\n",
			num(int64(pk.SequenceLen)), num(pk.Samples), num(pk.Tokens), num(pk.Bins), num(pk.LowerBoundBins))
		p("  efficiency %s (card %s)\n", pct2(pk.Efficiency), pct2(CardPackingEfficiency))
	}
	if len(m.Nulls) > 0 {
		var parts []string
		for _, n := range m.Nulls {
			parts = append(parts, n.Key+" "+num(n.Value))
		}
		p("\nNULL values: %s\n", strings.Join(parts, ", "))
	}
	t := d.Timing
	if t.Seconds > 0 {
		p("\nTime: %ss, %s rows/s, %d workers", fnum(t.Seconds, 1), fnum(t.RowsPerSec, 0), t.Workers)
		for _, s := range t.Stages {
			p("; %s %ss", s.Name, fnum(s.Seconds, 1))
		}
		p("\n")
	}
	return bw.Flush()
}

func exampleLine(ex []stats.Example, n int) string {
	var parts []string
	for _, e := range ex {
		s := e.ID
		if e.DuplicateOf != "" {
			s += " = " + e.DuplicateOf
		}
		if e.Detail != "" {
			s += " (" + e.Detail + ")"
		}
		parts = append(parts, s)
	}
	return oneLine(strings.Join(parts, "; "), n)
}

// sparkline draws bins as block characters scaled to the largest bin (a non-empty bin is never blank).
func sparkline(bins []stats.Bin) string {
	const blocks = "▁▂▃▄▅▆▇█"
	levels := []rune(blocks)
	var top int64
	for _, b := range bins {
		top = max(top, b.Count)
	}
	var sb strings.Builder
	for _, b := range bins {
		if b.Count == 0 || top == 0 {
			sb.WriteRune(' ')
			continue
		}
		i := int(float64(b.Count) / float64(top) * float64(len(levels)-1))
		sb.WriteRune(levels[min(max(i, 0), len(levels)-1)])
	}
	return sb.String()
}
