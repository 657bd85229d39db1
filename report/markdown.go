package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/orcaprep/orcaprep/stats"
)

// WriteMarkdown writes the report as GitHub-flavoured Markdown: headed tables with right-aligned numbers,
// every cell escaped so that ids, prompts and matched phrases cannot break the table.
func WriteMarkdown(w io.Writer, d *stats.Document) error {
	m := newModel(d)
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	row := func(cells ...string) { p("| %s |\n", strings.Join(cells, " | ")) }

	p("# %s\n\n", m.Title)
	row("", "rows")
	row("---", "---:")
	row("read", num(d.RowsRead))
	row("kept", fmt.Sprintf("%s (%s)", num(d.RowsKept), pct(ratio(d.RowsKept, d.RowsRead))))
	row("dropped", num(m.Dropped))
	if m.Tokenized {
		row("tokens kept", num(m.TokensKept))
	}
	p("\n")

	p("**Compared with the card:** ")
	for i, c := range m.Compare {
		if i == 1 {
			p("; OpenOrca's own filtered sets: ")
		} else if i > 1 {
			p(", ")
		}
		p("%s %s (kept = %s)", mdText(c.Name), num(c.Rows), pct(c.Ratio))
	}
	p(".\n\n")

	for _, w := range m.Warnings {
		p("> **Warning:** %s\n\n", mdText(w))
	}
	if !m.Profile {
		p("## Ledger\n\nRows left after each stage, in pipeline order.\n\n")
		row("stage", "rows", "removed", "removed because")
		row("---", "---:", "---:", "---")
		for _, s := range m.Steps {
			removed := ""
			if s.Removed > 0 {
				removed = "−" + num(s.Removed)
			}
			row(mdText(s.Label), num(s.Rows), removed, mdText(s.Reasons))
		}
		p("\n")
	}

	if len(m.Reasons) > 0 {
		p("## Drop reasons\n\n")
		row("reason", "stage", "rows", "% of read", "first examples")
		row("---", "---", "---:", "---:", "---")
		for _, r := range m.Reasons {
			var ex []string
			for _, e := range r.Examples {
				s := mdCode(e.ID)
				if e.DuplicateOf != "" {
					s += " = " + mdCode(e.DuplicateOf)
				}
				if e.Detail != "" {
					s += " " + mdCode(oneLine(e.Detail, 80))
				}
				ex = append(ex, s)
			}
			row(mdCode(r.Reason), mdText(r.Stage), num(r.Rows), pct(r.Share), strings.Join(ex, "<br>"))
		}
		p("\n")
	}

	p("## Submixes\n\n")
	hdr := []string{"submix", "read", "kept", "kept %", "dropped"}
	align := []string{"---", "---:", "---:", "---:", "---:"}
	if m.Tokenized {
		hdr, align = append(hdr, "tokens kept"), append(align, "---:")
	}
	row(hdr...)
	row(align...)
	for _, s := range m.Submixes {
		cells := []string{mdCode(s.Name), num(s.Read), num(s.Kept), pct(s.KeptShare), num(s.Dropped)}
		if m.Tokenized {
			cells = append(cells, num(s.TokensKept))
		}
		row(cells...)
	}
	p("\n")

	if len(m.Lengths) > 0 {
		p("## Lengths\n\nPercentiles are nearest-rank, read from log-binned histograms: exact below 2,048, within 0.1%% above.\n\n")
		row("measure", "rows", "count", "min", "p50", "p90", "p99", "max", "mean")
		row("---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:")
		for _, g := range m.Lengths {
			for _, ls := range []*stats.LengthStat{g.All, g.Kept} {
				if ls == nil {
					continue
				}
				row(mdText(g.Label), ls.Rows, num(ls.Count), num(ls.Min), num(ls.P50), num(ls.P90), num(ls.P99), num(ls.Max), fnum(ls.Mean, 1))
			}
		}
		p("\n")
	}

	if len(m.Prompts) > 0 {
		p("## System prompts\n\n")
		row("system prompt", "read", "kept", "kept %")
		row("---", "---:", "---:", "---:")
		for _, g := range m.Prompts {
			row(mdText(oneLine(promptName(g.Name), 110)), num(g.RowsRead), num(g.RowsKept), pct(ratio(g.RowsKept, g.RowsRead)))
		}
		if m.PromptsCut > 0 {
			p("\n%s more system prompts are in stats.json.\n", num(int64(m.PromptsCut)))
		}
		p("\n")
	}

	if dd := d.Distributions; dd != nil && dd.Duplicates.Clusters > 0 {
		du := dd.Duplicates
		p("## Duplicate clusters\n\n%s clusters; %s duplicate rows dropped; largest cluster %s rows.\n\n", num(du.Clusters), num(du.DuplicateRows), num(du.MaxSize))
		row("cluster size", "clusters")
		row("---:", "---:")
		for _, s := range du.Sizes {
			row(num(s.Size), num(s.Clusters))
		}
		p("\n")
	}

	if pk := d.Packing; pk != nil {
		p("## Packing\n\n")
		row("sequence length", "samples", "tokens", "bins", "lower bound", "efficiency", "card")
		row("---:", "---:", "---:", "---:", "---:", "---:", "---:")
		row(num(int64(pk.SequenceLen)), num(pk.Samples), num(pk.Tokens), num(pk.Bins), num(pk.LowerBoundBins), pct2(pk.Efficiency), pct2(CardPackingEfficiency))
		p("\n")
	}

	if len(d.Inputs) > 0 {
		p("## Inputs\n\n")
		row("file", "bytes", "rows", "selected")
		row("---", "---:", "---:", "---")
		for _, in := range d.Inputs {
			sel := "no"
			if in.Selected {
				sel = "yes"
			}
			row(mdCode(in.Name), num(in.Bytes), num(in.Rows), sel)
		}
		p("\n")
	}
	if len(m.Nulls) > 0 {
		p("## NULL values\n\n")
		row("column", "NULLs")
		row("---", "---:")
		for _, n := range m.Nulls {
			row(mdCode(n.Key), num(n.Value))
		}
		p("\n")
	}
	if t := d.Timing; t.Seconds > 0 {
		p("## Timing\n\n%ss wall time, %s rows/s, %d workers.\n", fnum(t.Seconds, 1), fnum(t.RowsPerSec, 0), t.Workers)
		if len(t.Stages) > 0 {
			p("\n")
			row("stage", "seconds", "rows", "rows/s")
			row("---", "---:", "---:", "---:")
			for _, s := range t.Stages {
				row(mdText(s.Name), fnum(s.Seconds, 2), num(s.Rows), fnum(s.RowsPerSec, 0))
			}
		}
	}
	return bw.Flush()
}

// mdText escapes text for a GFM table cell: Markdown punctuation, HTML and pipes are escaped and line
// breaks flattened, so the cell shows the text as it is.
func mdText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '#', '|', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode renders s as an inline code span inside a table cell: the fence is longer than any backtick run
// in s, and pipes are escaped (GFM splits cells on | even inside code spans).
func mdCode(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	run, longest := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	s = strings.ReplaceAll(s, "|", `\|`)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}
