package report

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"

	"github.com/orcaprep/orcaprep/stats"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"num":    num,
	"pct":    pct,
	"pct2":   pct2,
	"fnum":   fnum,
	"f1":     f1,
	"bytes":  bytesHuman,
	"line":   oneLine,
	"prompt": promptName,
	"ratio":  ratio,
	"i64":    func(i int) int64 { return int64(i) },
	"sub":    func(a, b int64) int64 { return a - b },
	"pair": func(a, b *stats.LengthStat) []*stats.LengthStat { // the non-nil of all / kept
		var out []*stats.LengthStat
		for _, ls := range []*stats.LengthStat{a, b} {
			if ls != nil {
				out = append(out, ls)
			}
		}
		return out
	},
	"width": func(a, b int64) string { // a bar's CSS width in percent of b
		if b <= 0 {
			return "0"
		}
		return f1(float64(a) / float64(b) * 100)
	},
}).Parse(htmlSource))

// htmlView is what the HTML template gets: the model and its charts.
type htmlView struct {
	M         *model
	D         *stats.Document
	Waterfall chart
	Reasons   *chart
	Submixes  chart
	Hists     []histView
	Clusters  *chart
	Packing   *chart
	MaxReason int64
}

type histView struct {
	Chart chart
	G     lengthGroup
}

// maxReasonBars is how many drop reasons the reasons chart shows; the table lists them all.
const maxReasonBars = 12

// WriteHTML writes the report as one self-contained HTML page: inline CSS and SVG, no scripts, no
// external resources. Every number that comes from stats.json carries a data-stat attribute naming it,
// which lets tests (and scrapers) check the page against the JSON.
func WriteHTML(w io.Writer, d *stats.Document) error {
	m := newModel(d)
	v := htmlView{M: m, D: d, Waterfall: waterfallChart(m)}
	var bars []hbar
	for _, s := range m.Submixes {
		bars = append(bars, hbar{Label: s.Name, Key: "submix." + s.Name + ".read", Kept: s.Kept, Dropped: s.Dropped})
	}
	v.Submixes = hbarChart("chart-submixes", "Rows per submix", "Kept and dropped rows of each FLAN submix (by id prefix).", bars)
	if len(m.Reasons) > 0 {
		var rb []hbar
		for i, r := range m.Reasons {
			if i == maxReasonBars {
				break
			}
			rb = append(rb, hbar{Label: r.Reason, Key: "dropped." + r.Reason, Dropped: r.Rows})
			v.MaxReason = max(v.MaxReason, r.Rows)
		}
		c := hbarChart("chart-reasons", "Top drop reasons", "Rows dropped for each reason, most first.", rb)
		v.Reasons = &c
	}
	for _, g := range m.Lengths {
		v.Hists = append(v.Hists, histView{Chart: histogramChart(g), G: g})
	}
	if dd := d.Distributions; dd != nil && dd.Duplicates.Clusters > 0 {
		c := clusterChart(dd.Duplicates)
		v.Clusters = &c
	}
	if d.Packing != nil {
		c := packingChart(d.Packing)
		v.Packing = &c
	}
	bw := bufio.NewWriter(w)
	if err := htmlTemplate.Execute(bw, v); err != nil {
		return fmt.Errorf("render HTML report: %w", err)
	}
	return bw.Flush()
}
