package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/stats"
)

func TestMarkdownGolden(t *testing.T) {
	d, _ := loadFixture(t)
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, d); err != nil {
		t.Fatal(err)
	}
	golden := "testdata/report.md.golden"
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != string(want) {
		t.Errorf("markdown differs from %s (go test ./report -run Markdown -update, then review the diff)", golden)
	}
	checkGFMTables(t, buf.String(), 10)
}

// checkGFMTables checks what makes a GFM table render as one: every row of a table has as many cells as
// its header, the delimiter row is valid, and a blank line separates tables from what follows.
func checkGFMTables(t *testing.T, md string, minTables int) {
	t.Helper()
	lines := strings.Split(md, "\n")
	cells := func(l string) int { // unescaped pipes between the outer ones
		n := 0
		for i := 1; i < len(l)-1; i++ {
			if l[i] == '|' && l[i-1] != '\\' {
				n++
			}
		}
		return n + 1
	}
	delim := regexp.MustCompile(`^\|( :?-{3,}:? \|)+$`)
	tables := 0
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "|") {
			continue
		}
		tables++
		if i > 0 && lines[i-1] != "" {
			t.Errorf("line %d: table not preceded by a blank line", i+1)
		}
		want := cells(lines[i])
		if i+1 >= len(lines) || !delim.MatchString(lines[i+1]) || cells(lines[i+1]) != want {
			t.Errorf("line %d: table header without a matching delimiter row: %q", i+2, lines[min(i+1, len(lines)-1)])
		}
		j := i + 2
		for ; j < len(lines) && strings.HasPrefix(lines[j], "|"); j++ {
			if got := cells(lines[j]); got != want || !strings.HasSuffix(lines[j], " |") {
				t.Errorf("line %d: %d cells, header has %d: %q", j+1, got, want, lines[j])
			}
		}
		if j < len(lines) && lines[j] != "" {
			t.Errorf("line %d: table not followed by a blank line", j+1)
		}
		i = j
	}
	if tables < minTables {
		t.Errorf("only %d tables in the report", tables)
	}
}

func TestMarkdownEscapesCells(t *testing.T) {
	for in, want := range map[string]string{
		"a|b":          `a\|b`,
		"<|im_start|>": `&lt;\|im\_start\|&gt;`,
		"line\nbreak":  "line break",
		"*x* [y](z)":   `\*x\* \[y\](z)`,
	} {
		if got := mdText(in); got != want {
			t.Errorf("mdText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := mdCode("a`b|c"); got != "``a`b\\|c``" {
		t.Errorf("mdCode = %q", got)
	}
}

// statRe finds every element carrying a data-stat attribute and its text.
var statRe = regexp.MustCompile(`data-stat="([^"]*)"[^>]*>([^<]*)<`)

// expectedStats computes, from the raw stats.json (decoded generically, not through stats.Document or
// the report's model), the value every data-stat key of the HTML page must show.
func expectedStats(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	var j map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&j); err != nil {
		t.Fatal(err)
	}
	obj := func(v any) map[string]any { return v.(map[string]any) }
	arr := func(v any) []any { return v.([]any) }
	n := func(v any) int64 { i, err := v.(json.Number).Int64(); check(t, err); return i }
	f := func(v any) float64 { x, err := v.(json.Number).Float64(); check(t, err); return x }
	want := map[string]string{}
	put := func(k string, v int64) { want[k] = strconv.FormatInt(v, 10) }
	put("rows_read", n(j["rows_read"]))
	put("rows_kept", n(j["rows_kept"]))
	var dropped int64
	for k, v := range obj(j["dropped"]) {
		put("dropped."+k, n(v))
		dropped += n(v)
	}
	put("dropped_total", dropped)
	put("step.read.rows", n(j["rows_read"]))
	put("step.kept.rows", n(j["rows_kept"]))
	left := n(j["rows_read"]) // the waterfall: rows read minus the drops of each stage so far
	for _, s := range arr(j["stages"]) {
		s := obj(s)
		name := s["name"].(string)
		put("stage."+name+".in", n(s["in"]))
		put("stage."+name+".out", n(s["out"]))
		var r int64
		for _, v := range obj(s["dropped"]) {
			r += n(v)
		}
		left -= r
		put("step."+name+".rows", left)
		put("step."+name+".removed", r)
	}
	put("step.kept.removed", left-n(j["rows_kept"]))
	for name, s := range obj(j["by_submix"]) {
		s := obj(s)
		put("submix."+name+".read", n(s["read"]))
		put("submix."+name+".kept", n(s["kept"]))
		put("submix."+name+".dropped", n(s["read"])-n(s["kept"]))
	}
	for k, v := range obj(j["nulls"]) {
		put("null."+k, n(v))
	}
	for _, in := range arr(j["inputs"]) {
		in := obj(in)
		put("input."+in["name"].(string)+".rows", n(in["rows"]))
	}
	if dv, ok := j["distributions"]; ok {
		d := obj(dv)
		var tok int64
		for _, g := range arr(d["submixes"]) {
			g := obj(g)
			put("submix."+g["name"].(string)+".tokens_kept", n(g["tokens_kept"]))
			tok += n(g["tokens_kept"])
		}
		put("tokens_kept", tok)
		for i, g := range arr(d["system_prompts"]) {
			g := obj(g)
			put(fmt.Sprintf("prompt.%d.read", i), n(g["rows_read"]))
			put(fmt.Sprintf("prompt.%d.kept", i), n(g["rows_kept"]))
		}
		for _, l := range arr(d["lengths"]) {
			l := obj(l)
			k := "length." + l["measure"].(string) + "." + l["rows"].(string)
			for _, p := range []string{"count", "min", "p50", "p90", "p99", "max"} {
				put(k+"."+p, n(l[p]))
			}
		}
		du := obj(d["duplicates"])
		put("dup.clusters", n(du["clusters"]))
		put("dup.duplicate_rows", n(du["duplicate_rows"]))
		put("dup.max_size", n(du["max_size"]))
	}
	if pv, ok := j["packing"]; ok {
		p := obj(pv)
		for _, k := range []string{"sequence_len", "samples", "tokens", "bins", "lower_bound_bins"} {
			put("packing."+k, n(p[k]))
		}
		want["packing.efficiency"] = strconv.FormatFloat(f(p["efficiency"])*100, 'f', 2, 64) + "%"
	}
	// The card's numbers, as the issue states them.
	put("card.GPT-4 subset (1M-GPT4-Augmented)", 994896)
	put("card.oo-gpt4-filtered", 819045)
	put("card.SlimOrca", 517982)
	put("card.SlimOrca-Dedup", 363491)
	return want
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// shownValue turns a number as the page shows it ("−1,234", "99.15%") back into the form expectedStats uses.
func shownValue(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, ",", "")
	s = strings.TrimPrefix(s, "−")
	if i := strings.LastIndexByte(s, ' '); i >= 0 { // "p50 321": the label precedes the number
		s = s[i+1:]
	}
	return s
}

func TestHTMLNumbersEqualStatsJSON(t *testing.T) {
	d, raw := loadFixture(t)
	var buf bytes.Buffer
	if err := WriteHTML(&buf, d); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	want := expectedStats(t, raw)
	seen := map[string]bool{}
	for _, m := range statRe.FindAllStringSubmatch(page, -1) {
		key, shown := html.UnescapeString(m[1]), html.UnescapeString(m[2])
		w, ok := want[key]
		if !ok {
			t.Errorf("data-stat %q has no counterpart in stats.json", key)
			continue
		}
		if got := shownValue(shown); got != w {
			t.Errorf("%s: page shows %q, stats.json has %s", key, shown, w)
		}
		seen[key] = true
	}
	// Every headline number must be on the page.
	required := []string{"rows_read", "rows_kept", "dropped_total", "tokens_kept", "packing.efficiency", "packing.bins",
		"dup.clusters", "step.read.rows", "step.kept.rows"}
	for _, s := range d.Stages {
		required = append(required, "stage."+s.Name+".in", "stage."+s.Name+".out", "step."+s.Name+".rows")
	}
	for r := range d.Dropped {
		required = append(required, "dropped."+r)
	}
	for s := range d.BySubmix {
		required = append(required, "submix."+s+".read", "submix."+s+".kept")
	}
	for _, l := range d.Distributions.Lengths {
		for _, p := range []string{"p50", "p90", "p99", "max"} {
			required = append(required, "length."+l.Measure+"."+l.Rows+"."+p)
		}
	}
	for _, k := range required {
		if !seen[k] {
			t.Errorf("page does not show %s", k)
		}
	}
	if len(seen) < 80 {
		t.Errorf("only %d numbers checked", len(seen))
	}
	// Self-contained: no scripts, no external resources, no template escaping accidents.
	for _, bad := range []string{"<script", "src=", "href=", "@import", "url(", "ZgotmplZ"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if strings.Count(page, "http") != strings.Count(page, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Errorf("page references a URL other than the SVG namespace")
	}
	// Text from the data is escaped, not interpreted.
	if !strings.Contains(page, "&lt;|im_start|&gt;") || strings.Contains(page, "<|im_start|>") {
		t.Errorf("special-token detail not escaped")
	}
}

func TestTextReport(t *testing.T) {
	d, _ := loadFixture(t)
	var buf bytes.Buffer
	if err := WriteText(&buf, d); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		num(d.RowsKept) + "  (" + pct(ratio(d.RowsKept, d.RowsRead)) + ")",
		"994,896", "819,045", "517,982", "363,491", "99.85%",
		"deduplicated", "not_selected",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^  rows read +` + num(d.RowsRead) + `$`).MatchString(out) {
		t.Errorf("text report lacks the rows read line")
	}
	for _, l := range strings.Split(out, "\n") {
		if n := len([]rune(l)); n > 120 {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	d, _ := loadFixture(t)
	for _, f := range Formats {
		var a, b bytes.Buffer
		if err := Render(&a, d, f); err != nil {
			t.Fatal(err)
		}
		d2, _ := loadFixture(t)
		if err := Render(&b, d2, f); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Errorf("%s output differs between two renders", f)
		}
	}
}

func TestRunFromOutDir(t *testing.T) {
	_, raw := loadFixture(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "stats.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report.html")
	if err := Run(context.Background(), Options{Dir: dir, Format: HTML, Output: out}, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Fatalf("report.html: %v %.40q", err, b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("temp files left behind: %v", ents)
	}
	var js bytes.Buffer
	if err := Run(context.Background(), Options{Dir: dir, Format: JSON}, &js); err != nil {
		t.Fatal(err)
	}
	if _, err := stats.ParseDocument(js.Bytes()); err != nil {
		t.Errorf("json format is not a stats.json: %v", err)
	}

	for name, tc := range map[string]struct {
		o    Options
		code int
	}{
		"missing":     {Options{Dir: t.TempDir()}, exitcode.Input},
		"bad format":  {Options{Dir: dir, Format: "pdf"}, exitcode.Usage},
		"both":        {Options{Dir: dir, Inputs: []string{"x.parquet"}}, exitcode.Usage},
		"neither":     {Options{}, exitcode.Usage},
		"not parquet": {Options{Inputs: []string{filepath.Join(dir, "stats.json")}}, exitcode.Input},
		"unwritable":  {Options{Dir: dir, Output: filepath.Join(dir, "no", "such", "dir", "r.md"), Format: Markdown}, exitcode.Output},
	} {
		err := Run(context.Background(), tc.o, &bytes.Buffer{})
		if got := exitcode.Code(err); got != tc.code {
			t.Errorf("%s: exit code %d (%v), want %d", name, got, err, tc.code)
		}
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"rows_read": 5, "rows_kept": 1, "dropped": {}, "by_submix": {}}`), 0o644)
	if err := Run(context.Background(), Options{Dir: bad}, &bytes.Buffer{}); exitcode.Code(err) != exitcode.Input || !strings.Contains(err.Error(), "does not add up") {
		t.Errorf("ledger that does not add up: %v", err)
	}
}

// TestInconsistentStagesAreFlagged renders a ledger whose stage in/out counts double up (each stage's own
// in = out + dropped holds; Ledger.Check rejects it, but a report must still not draw a bar taller than
// the rows read): the waterfall follows the drops and warns.
func TestInconsistentStagesAreFlagged(t *testing.T) {
	d := &stats.Document{Ledger: &stats.Ledger{RowsRead: 100, RowsKept: 90,
		Dropped:  map[string]int64{"refusal": 6, "exact_duplicate": 4},
		BySubmix: map[string]*stats.SubmixCounts{"flan": {Read: 100, Kept: 90, Dropped: map[string]int64{"refusal": 6, "exact_duplicate": 4}}},
		Nulls:    map[string]int64{},
		Stages: []*stats.Stage{{Name: "filter", In: 100, Out: 94, Dropped: map[string]int64{"refusal": 6}},
			{Name: "dedupe", In: 188, Out: 184, Dropped: map[string]int64{"exact_duplicate": 4}}}}}
	m := newModel(d)
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "stage dedupe counts 188 rows in, but 94 rows reached it") {
		t.Errorf("warnings %q", m.Warnings)
	}
	for _, s := range m.Steps {
		if s.Rows > d.RowsRead {
			t.Errorf("waterfall step %s has %d rows, more than were read", s.Key, s.Rows)
		}
	}
	if got := m.Steps[2].Rows; got != 90 {
		t.Errorf("rows after dedupe %d, want 90", got)
	}
	for _, f := range Formats[:1] {
		var buf bytes.Buffer
		if err := Render(&buf, d, f); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "warning: stage dedupe") {
			t.Errorf("%s report does not show the warning", f)
		}
	}
}
