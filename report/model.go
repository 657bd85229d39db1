package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/orcaprep/orcaprep/stats"
)

// Numbers from the LlongOrca-7B-16k / OpenOrca cards that every report compares against.
const (
	// CardGPT4Rows is the row count of 1M-GPT4-Augmented.parquet, the GPT-4 subset LlongOrca drew from.
	CardGPT4Rows = 994896
	// CardPackingEfficiency is the "MultiPack achieves 99.85% bin-packing efficiency" of the card.
	CardPackingEfficiency = 0.9985
)

// CardSet is one of OpenOrca's own curated sets.
type CardSet struct {
	Name string
	Rows int64
}

// CardFilteredSets are OpenOrca's own filtered sets, largest first.
var CardFilteredSets = []CardSet{
	{"oo-gpt4-filtered", 819045},
	{"SlimOrca", 517982},
	{"SlimOrca-Dedup", 363491},
}

// stageLabels turns pipeline stage names into the waterfall's "rows after this stage" labels.
var stageLabels = map[string]string{
	"select":   "selected",
	"validate": "validated",
	"filter":   "filtered",
	"dedupe":   "deduplicated",
	"tokens":   "tokenized",
	"length":   "length-checked",
}

// measureLabels are the human names of the length measures.
var measureLabels = map[string]string{
	stats.MeasureQuestionChars: "Question length (characters)",
	stats.MeasureResponseChars: "Response length (characters)",
	stats.MeasureSampleChars:   "Sample length (ChatML characters)",
	stats.MeasureSampleTokens:  "Sample length (tokens)",
}

// step is one bar of the ledger waterfall: the rows left after a stage and what the stage removed.
type step struct {
	Key     string // stable id for tests: "read", a stage name, or "kept"
	Label   string
	Rows    int64
	Removed int64
	Reasons string // "reason n, reason n" of what was removed, largest first
}

// model is what every renderer shows, computed once from a Document so the formats cannot disagree.
type model struct {
	Doc        *stats.Document
	Title      string
	Profile    bool // built by --input: raw input, nothing filtered
	Dropped    int64
	Steps      []step
	Reasons    []reasonRow
	Submixes   []submixRow
	Prompts    []stats.GroupStat
	PromptsCut int // prompts not shown
	Lengths    []lengthGroup
	Tokenized  bool
	TokensKept int64
	Compare    []compareRow
	Nulls      []kv
	// Warnings are inconsistencies found in the document (a bug in whatever wrote it).
	Warnings []string
}

type kv struct {
	Key   string
	Value int64
}

type reasonRow struct {
	Reason   string
	Stage    string
	Rows     int64
	Share    float64 // of rows read
	Examples []stats.Example
}

type submixRow struct {
	Name                  string
	Read, Kept, Dropped   int64
	KeptShare             float64
	CharsKept, TokensKept int64
	HaveDist              bool
}

// lengthGroup is one measure with its all-rows and kept-rows distributions.
type lengthGroup struct {
	Measure string
	Label   string
	All     *stats.LengthStat
	Kept    *stats.LengthStat
}

type compareRow struct {
	Name  string
	Rows  int64
	Ratio float64 // our kept / theirs
}

const maxPromptsShown = 20

func newModel(d *stats.Document) *model {
	m := &model{Doc: d, Dropped: d.DroppedTotal(), Title: "orcaprep dataset report"}
	m.Profile = len(d.Stages) == 0
	if m.Profile {
		m.Title = "orcaprep input profile"
	}
	// Waterfall: read, then the rows left after each stage, then kept. The rows left are computed from the
	// drops (which Ledger.Check ties to rows_read), not taken from each stage's in/out; a stage whose
	// in/out disagree with that chain is reported as a warning rather than drawn as a bar that grows.
	left := d.RowsRead
	m.Steps = append(m.Steps, step{Key: "read", Label: "read", Rows: left})
	for _, s := range d.Stages {
		label := stageLabels[s.Name]
		if label == "" {
			label = s.Name
		}
		var removed int64
		for _, v := range s.Dropped {
			removed += v
		}
		if s.In != left {
			m.Warnings = append(m.Warnings, fmt.Sprintf("stage %s counts %s rows in, but %s rows reached it (rows read minus earlier drops)", s.Name, num(s.In), num(left)))
		}
		left -= removed
		m.Steps = append(m.Steps, step{Key: s.Name, Label: label, Rows: left, Removed: removed, Reasons: topCounts(s.Dropped, 3)})
	}
	if left != d.RowsKept {
		m.Warnings = append(m.Warnings, fmt.Sprintf("the stages drop rows down to %s, but rows_kept is %s", num(left), num(d.RowsKept)))
	}
	m.Steps = append(m.Steps, step{Key: "kept", Label: "kept", Rows: d.RowsKept, Removed: max(left-d.RowsKept, 0)})

	stageOf := map[string]string{}
	for _, s := range d.Stages {
		for r := range s.Dropped {
			stageOf[r] = s.Name
		}
	}
	examples := map[string][]stats.Example{}
	if d.Distributions != nil {
		for _, r := range d.Distributions.DropReasons {
			examples[r.Reason] = r.Examples
		}
	}
	for _, r := range sortedCounts(d.Dropped) {
		m.Reasons = append(m.Reasons, reasonRow{Reason: r.Key, Stage: stageOf[r.Key], Rows: r.Value, Share: ratio(r.Value, d.RowsRead), Examples: examples[r.Key]})
	}

	dist := map[string]stats.GroupStat{}
	if d.Distributions != nil {
		for _, g := range d.Distributions.Submixes {
			dist[g.Name] = g
		}
	}
	names := make([]string, 0, len(d.BySubmix))
	for k := range d.BySubmix {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		c := d.BySubmix[k]
		var dropped int64
		for _, v := range c.Dropped {
			dropped += v
		}
		g, ok := dist[k]
		m.Submixes = append(m.Submixes, submixRow{Name: k, Read: c.Read, Kept: c.Kept, Dropped: dropped, KeptShare: ratio(c.Kept, c.Read),
			CharsKept: g.CharsKept, TokensKept: g.TokensKept, HaveDist: ok})
	}

	if dd := d.Distributions; dd != nil {
		m.Tokenized = dd.TokenizedRows > 0
		for _, g := range dd.Submixes {
			m.TokensKept += g.TokensKept
		}
		m.Prompts = dd.SystemPrompts
		if len(m.Prompts) > maxPromptsShown {
			m.PromptsCut = len(m.Prompts) - maxPromptsShown
			m.Prompts = m.Prompts[:maxPromptsShown]
		}
		for _, meas := range stats.Measures {
			all, kept := dd.Length(meas, stats.RowsAll), dd.Length(meas, stats.RowsKept)
			if all == nil && kept == nil {
				continue
			}
			m.Lengths = append(m.Lengths, lengthGroup{Measure: meas, Label: measureLabels[meas], All: all, Kept: kept})
		}
	}
	m.Compare = append(m.Compare, compareRow{Name: "GPT-4 subset (1M-GPT4-Augmented)", Rows: CardGPT4Rows, Ratio: ratio(d.RowsKept, CardGPT4Rows)})
	for _, s := range CardFilteredSets {
		m.Compare = append(m.Compare, compareRow{Name: s.Name, Rows: s.Rows, Ratio: ratio(d.RowsKept, s.Rows)})
	}
	m.Nulls = sortedCounts(d.Nulls)
	return m
}

// sortedCounts lists a count map largest first, ties by name.
func sortedCounts(c map[string]int64) []kv {
	out := make([]kv, 0, len(c))
	for _, k := range stats.SortedKeys(c) {
		out = append(out, kv{k, c[k]})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Value > out[j].Value })
	return out
}

func topCounts(c map[string]int64, n int) string {
	var parts []string
	for i, e := range sortedCounts(c) {
		if i == n {
			parts = append(parts, "…")
			break
		}
		if e.Value > 0 {
			parts = append(parts, e.Key+" "+num(e.Value))
		}
	}
	return strings.Join(parts, ", ")
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// num formats an integer with thousands separators: 994896 → "994,896".
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// pct formats a fraction as a percentage with one decimal; pct2 with two.
func pct(f float64) string  { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }
func pct2(f float64) string { return strconv.FormatFloat(f*100, 'f', 2, 64) + "%" }

// fnum formats a float with up to d decimals and thousands separators in the integer part.
func fnum(f float64, d int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	s := strconv.FormatFloat(f, 'f', d, 64)
	ip, fp, _ := strings.Cut(s, ".")
	n, _ := strconv.ParseInt(ip, 10, 64)
	out := num(n)
	if n == 0 && strings.HasPrefix(ip, "-") {
		out = "-0"
	}
	if fp != "" {
		out += "." + fp
	}
	return out
}

// bytesHuman formats a byte count: 1008442855 → "1.01 GB".
func bytesHuman(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.2f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// oneLine makes text fit one table cell: newlines and tabs become spaces and it is cut to n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// promptName shows an empty system prompt as such.
func promptName(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}
