package report

import (
	"fmt"
	"math"
	"strconv"

	"github.com/orcaprep/orcaprep/stats"
)

// chart is an SVG drawing reduced to primitives; one template renders every chart, and html/template
// escapes every string in it. Geometry is computed here, in Go, so charts need no JavaScript.
type chart struct {
	ID      string // element id of the chart's <figure>; the screenshot test looks charts up by it
	Title   string
	Caption string
	W, H    int
	Rects   []rect
	Lines   []line
	Texts   []text
}

type rect struct {
	X, Y, W, H float64
	Class      string
	Tip        string // <title>, shown on hover
}

type line struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

type text struct {
	X, Y   float64
	Anchor string // start, middle, end
	Class  string
	Text   string
	Stat   string // data-stat key when the text is a number from stats.json
}

// f1 formats a coordinate with one decimal: enough for crisp output, short files, stable bytes.
func f1(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// niceTicks returns about n round tick values covering [0, top].
func niceTicks(top float64, n int) []float64 {
	if top <= 0 {
		return []float64{0}
	}
	raw := top / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := 0.0; v <= top*1.0001; v += step {
		out = append(out, v)
	}
	return out
}

// short formats a tick value: 1200000 → "1.2M".
func short(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', -1, 64) + "G"
	case a >= 1e6:
		return strconv.FormatFloat(math.Round(v/1e5)/10, 'f', -1, 64) + "M"
	case a >= 1e3:
		return strconv.FormatFloat(math.Round(v/1e2)/10, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// yAxis draws horizontal grid lines and labels for a linear axis from 0 to top.
func (c *chart) yAxis(left, right, top, bottom float64, max float64) func(float64) float64 {
	y := func(v float64) float64 {
		if max <= 0 {
			return bottom
		}
		return bottom - v/max*(bottom-top)
	}
	for _, t := range niceTicks(max, 4) {
		c.Lines = append(c.Lines, line{left, y(t), right, y(t), "grid"})
		c.Texts = append(c.Texts, text{X: left - 6, Y: y(t) + 4, Anchor: "end", Class: "tick", Text: short(t)})
	}
	return y
}

// waterfallChart draws the rows left after each stage, with what the stage removed stacked on top in red.
func waterfallChart(m *model) chart {
	c := chart{ID: "chart-waterfall", Title: "Where the rows went", W: 900, H: 330,
		Caption: "Rows left after each stage (blue), and the rows the stage removed (red)."}
	left, right, top, bottom := 70.0, float64(c.W)-16, 34.0, float64(c.H)-56
	y := c.yAxis(left, right, top, bottom, float64(m.Doc.RowsRead))
	n := len(m.Steps)
	slot := (right - left) / float64(n)
	bw := math.Min(slot*0.62, 110)
	prevTop := 0.0
	for i, s := range m.Steps {
		x := left + slot*float64(i) + (slot-bw)/2
		cls := "bar-step"
		if s.Key == "read" {
			cls = "bar-read"
		} else if s.Key == "kept" {
			cls = "bar-kept"
		}
		c.Rects = append(c.Rects, rect{x, y(float64(s.Rows)), bw, bottom - y(float64(s.Rows)), cls, fmt.Sprintf("%s: %s rows", s.Label, num(s.Rows))})
		if s.Removed > 0 {
			c.Rects = append(c.Rects, rect{x, y(float64(s.Rows + s.Removed)), bw, y(float64(s.Rows)) - y(float64(s.Rows+s.Removed)), "bar-removed",
				fmt.Sprintf("%s removed %s rows: %s", s.Label, num(s.Removed), s.Reasons)})
		}
		if i > 0 {
			c.Lines = append(c.Lines, line{x - (slot - bw), prevTop, x, prevTop, "connector"})
		}
		prevTop = y(float64(s.Rows))
		labelY := y(float64(s.Rows+s.Removed)) - 6
		c.Texts = append(c.Texts, text{X: x + bw/2, Y: labelY, Anchor: "middle", Class: "value", Text: num(s.Rows), Stat: "step." + s.Key + ".rows"})
		if s.Removed > 0 {
			c.Texts = append(c.Texts, text{X: x + bw/2, Y: labelY - 15, Anchor: "middle", Class: "removed", Text: "−" + num(s.Removed), Stat: "step." + s.Key + ".removed"})
		}
		c.Texts = append(c.Texts, text{X: x + bw/2, Y: bottom + 20, Anchor: "middle", Class: "label", Text: s.Label})
		if s.Key != "read" {
			c.Texts = append(c.Texts, text{X: x + bw/2, Y: bottom + 37, Anchor: "middle", Class: "sub", Text: pct(ratio(s.Rows, m.Doc.RowsRead)) + " of read"})
		}
	}
	c.Lines = append(c.Lines, line{left, bottom, right, bottom, "axis"})
	return c
}

// histogramChart draws one measure's log-binned histogram on a log(1+x) axis: all rows in grey, kept
// rows in blue on top, and the kept rows' p50/p90/p99 as dashed lines.
func histogramChart(g lengthGroup) chart {
	c := chart{ID: "chart-hist-" + g.Measure, Title: g.Label, W: 900, H: 260,
		Caption: "Log-spaced bins (4 per doubling); grey: all considered rows, blue: kept rows; dashed: kept p50 / p90 / p99."}
	left, right, top, bottom := 70.0, float64(c.W)-16, 36.0, float64(c.H)-40
	var lo, hi int64 = math.MaxInt64, 0
	var peak int64
	sets := []*stats.LengthStat{g.All, g.Kept}
	for _, ls := range sets {
		if ls == nil {
			continue
		}
		for _, b := range ls.Bins {
			lo, hi = min(lo, b.Lo), max(hi, b.Hi)
			peak = max(peak, b.Count)
		}
	}
	if hi == 0 {
		c.Texts = append(c.Texts, text{X: float64(c.W) / 2, Y: float64(c.H) / 2, Anchor: "middle", Class: "label", Text: "no rows"})
		return c
	}
	u := func(v int64) float64 { return math.Log10(float64(v) + 1) }
	x := func(v int64) float64 { return left + (u(v)-u(lo))/(u(hi)-u(lo))*(right-left) }
	y := c.yAxis(left, right, top, bottom, float64(peak))
	for i, ls := range sets {
		if ls == nil {
			continue
		}
		cls := []string{"bar-all", "bar-kept-h"}[i]
		for _, b := range ls.Bins {
			if b.Count == 0 {
				continue
			}
			x0, x1 := x(b.Lo), x(b.Hi)
			w := math.Max(x1-x0-0.6, 0.8)
			// At least 2px tall: a bin of a few outliers next to a peak of thousands must stay visible.
			h := math.Max(bottom-y(float64(b.Count)), 2)
			c.Rects = append(c.Rects, rect{x0, bottom - h, w, h, cls,
				fmt.Sprintf("%s rows, %s: %s–%s", ls.Rows, num(b.Count), num(b.Lo), num(b.Hi-1))})
		}
	}
	// Decade ticks on the x axis.
	for v := int64(1); v <= hi && v > 0; v *= 10 { // v > 0: stop before v*10 overflows
		if v < lo {
			continue
		}
		c.Lines = append(c.Lines, line{x(v), bottom, x(v), bottom + 5, "axis"})
		c.Texts = append(c.Texts, text{X: x(v), Y: bottom + 18, Anchor: "middle", Class: "tick", Text: short(float64(v))})
	}
	c.Lines = append(c.Lines, line{left, bottom, right, bottom, "axis"})
	ref := g.Kept
	if ref == nil || ref.Count == 0 {
		ref = g.All
	}
	if ref != nil && ref.Count > 0 {
		lastEnd, row := math.Inf(-1), 0
		for _, p := range []struct {
			name string
			v    int64
		}{{"p50", ref.P50}, {"p90", ref.P90}, {"p99", ref.P99}} {
			px := x(p.v)
			label := p.name + " " + num(p.v)
			// Labels of close percentiles would overlap: drop the next one a line lower.
			if px < lastEnd {
				row++
			} else {
				row = 0
			}
			lastEnd = px + 7*float64(len(label)) + 8
			ly := top - 8 + 13*float64(row)
			c.Lines = append(c.Lines, line{px, ly + 4, px, bottom, "pline"})
			c.Texts = append(c.Texts, text{X: px + 3, Y: ly, Anchor: "start", Class: "pl", Text: label,
				Stat: "length." + g.Measure + "." + ref.Rows + "." + p.name})
		}
	}
	c.Texts = append(c.Texts, text{X: right, Y: 14, Anchor: "end", Class: "legend-all", Text: "■ all rows"})
	c.Texts = append(c.Texts, text{X: right - 90, Y: 14, Anchor: "end", Class: "legend-kept", Text: "■ kept"})
	return c
}

// hbarChart draws horizontal bars: kept (blue) and dropped (red) per row label.
type hbar struct {
	Label, Key    string
	Kept, Dropped int64
}

func hbarChart(id, title, caption string, bars []hbar) chart {
	rowH := 30.0
	c := chart{ID: id, Title: title, Caption: caption, W: 900, H: int(36 + rowH*float64(len(bars)) + 10)}
	left, right := 150.0, float64(c.W)-130
	var top int64
	for _, b := range bars {
		top = max(top, b.Kept+b.Dropped)
	}
	for i, b := range bars {
		yy := 30 + rowH*float64(i)
		scale := 0.0
		if top > 0 {
			scale = (right - left) / float64(top)
		}
		kw, dw := float64(b.Kept)*scale, float64(b.Dropped)*scale
		c.Texts = append(c.Texts, text{X: left - 8, Y: yy + 15, Anchor: "end", Class: "label", Text: oneLine(b.Label, 22)})
		if b.Kept > 0 {
			c.Rects = append(c.Rects, rect{left, yy + 3, math.Max(kw, 1), rowH - 10, "bar-step", fmt.Sprintf("%s kept: %s", b.Label, num(b.Kept))})
		}
		if b.Dropped > 0 {
			c.Rects = append(c.Rects, rect{left + kw, yy + 3, math.Max(dw, 1), rowH - 10, "bar-removed", fmt.Sprintf("%s dropped: %s", b.Label, num(b.Dropped))})
		}
		c.Texts = append(c.Texts, text{X: left + kw + dw + 6, Y: yy + 15, Anchor: "start", Class: "value", Text: num(b.Kept + b.Dropped), Stat: b.Key})
	}
	c.Texts = append(c.Texts, text{X: float64(c.W) - 16, Y: 14, Anchor: "end", Class: "legend-removed", Text: "■ dropped"})
	c.Texts = append(c.Texts, text{X: float64(c.W) - 100, Y: 14, Anchor: "end", Class: "legend-kept", Text: "■ kept"})
	return c
}

// clusterChart draws how many duplicate clusters have each size (sizes above 12 are pooled).
func clusterChart(du stats.DuplicateStat) chart {
	c := chart{ID: "chart-clusters", Title: "Duplicate cluster sizes", W: 900, H: 220,
		Caption: "A cluster is a kept row and the rows dropped as its duplicates."}
	left, right, top, bottom := 70.0, float64(c.W)-16, 26.0, float64(c.H)-40
	type col struct {
		label string
		n     int64
	}
	var cols []col
	var big int64
	for _, s := range du.Sizes {
		if s.Size <= 12 {
			cols = append(cols, col{num(s.Size), s.Clusters})
		} else {
			big += s.Clusters
		}
	}
	if big > 0 {
		cols = append(cols, col{"13+", big})
	}
	var peak int64
	for _, k := range cols {
		peak = max(peak, k.n)
	}
	y := c.yAxis(left, right, top, bottom, float64(peak))
	slot := (right - left) / float64(max(len(cols), 1))
	bw := math.Min(slot*0.6, 60)
	for i, k := range cols {
		x := left + slot*float64(i) + (slot-bw)/2
		c.Rects = append(c.Rects, rect{x, y(float64(k.n)), bw, bottom - y(float64(k.n)), "bar-dup", fmt.Sprintf("size %s: %s clusters", k.label, num(k.n))})
		c.Texts = append(c.Texts, text{X: x + bw/2, Y: y(float64(k.n)) - 5, Anchor: "middle", Class: "value", Text: num(k.n)})
		c.Texts = append(c.Texts, text{X: x + bw/2, Y: bottom + 18, Anchor: "middle", Class: "tick", Text: k.label})
	}
	c.Lines = append(c.Lines, line{left, bottom, right, bottom, "axis"})
	return c
}

// packingChart is a gauge of the packing efficiency with the card's 99.85% marked.
func packingChart(p *stats.PackingStat) chart {
	c := chart{ID: "chart-packing", Title: "Packing efficiency", W: 900, H: 120,
		Caption: "tokens ÷ (bins × sequence length); the card reports 99.85% with MultiPack."}
	left, right := 70.0, float64(c.W)-30
	lo := 0.0
	if p.Efficiency >= 0.9 {
		lo = 0.9 // zoom in: the interesting part of a good packing is the last few percent
	}
	x := func(f float64) float64 { return left + (math.Min(math.Max(f, lo), 1)-lo)/(1-lo)*(right-left) }
	c.Rects = append(c.Rects, rect{left, 40, right - left, 30, "gauge-bg", "100%"})
	c.Rects = append(c.Rects, rect{left, 40, x(p.Efficiency) - left, 30, "bar-kept", "efficiency " + pct2(p.Efficiency)})
	c.Lines = append(c.Lines, line{x(CardPackingEfficiency), 32, x(CardPackingEfficiency), 78, "card"})
	c.Texts = append(c.Texts, text{X: x(CardPackingEfficiency), Y: 26, Anchor: "end", Class: "pl", Text: "card " + pct2(CardPackingEfficiency)})
	c.Texts = append(c.Texts, text{X: left + 8, Y: 61, Anchor: "start", Class: "gauge-label", Text: pct2(p.Efficiency), Stat: "packing.efficiency"})
	for i := 0; i <= 5; i++ {
		f := lo + (1-lo)*float64(i)/5
		c.Texts = append(c.Texts, text{X: x(f), Y: 94, Anchor: "middle", Class: "tick", Text: strconv.FormatFloat(f*100, 'f', -1, 64) + "%"})
	}
	return c
}
