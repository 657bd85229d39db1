package progress

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Mode chooses how progress is shown.
type Mode int

const (
	// Auto shows a bar when the writer is a terminal and plain periodic lines otherwise.
	Auto Mode = iota
	// Never shows nothing (--quiet).
	Never
	// Plain always prints periodic lines, never a bar.
	Plain
)

// Unit says what a Bar counts.
type Unit int

const (
	// Rows counts records.
	Rows Unit = iota
	// Bytes counts bytes.
	Bytes
)

// PlainInterval is how often a non-terminal progress line is printed.
var PlainInterval = 10 * time.Second

// Bar reports progress of one task. A nil *Bar is valid and does nothing, so callers need no checks.
// Add is safe for concurrent use.
type Bar struct {
	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	w       io.Writer
	label   string
	unit    Unit
	total   int64
	done    int64
	bytes   int64 // data volume, when the unit is rows
	start   time.Time
	lastOut time.Time
}

// New starts a progress report on w (normally os.Stderr). total <= 0 means unknown.
func New(w io.Writer, mode Mode, label string, total int64, unit Unit) *Bar {
	if mode == Never || w == nil {
		return nil
	}
	b := &Bar{w: w, label: label, unit: unit, total: total, start: time.Now()}
	b.lastOut = b.start
	if mode == Auto && isTerminal(w) {
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString(unitName(unit)),
			progressbar.OptionShowIts(),
			progressbar.OptionThrottle(200 * time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
			progressbar.OptionSetPredictTime(total > 0),
		}
		if unit == Bytes {
			opts = append(opts, progressbar.OptionShowBytes(true))
		}
		if total <= 0 {
			total = -1
		}
		b.bar = progressbar.NewOptions64(total, opts...)
	}
	return b
}

func unitName(u Unit) string {
	if u == Bytes {
		return "B"
	}
	return "rows"
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Add records n more units of work done.
func (b *Bar) Add(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if b.bar != nil {
		_ = b.bar.Add64(n)
		return
	}
	now := time.Now()
	if now.Sub(b.lastOut) >= PlainInterval {
		b.lastOut = now
		b.printLine(now)
	}
}

func (b *Bar) printLine(now time.Time) {
	el := now.Sub(b.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(b.done) / el
	}
	pct := ""
	if b.total > 0 {
		pct = fmt.Sprintf(" (%.1f%%)", 100*float64(b.done)/float64(b.total))
	}
	if b.unit == Bytes {
		fmt.Fprintf(b.w, "%s: %.1f MB%s, %.1f MB/s, %s elapsed\n", b.label, float64(b.done)/1e6, pct, rate/1e6, now.Sub(b.start).Round(time.Second))
		return
	}
	if b.bytes > 0 {
		fmt.Fprintf(b.w, "%s: %d rows%s, %.1f MB, %.0f rows/s, %.1f MB/s, %s elapsed\n", b.label, b.done, pct,
			float64(b.bytes)/1e6, rate, float64(b.bytes)/1e6/math.Max(el, 1e-9), now.Sub(b.start).Round(time.Second))
		return
	}
	fmt.Fprintf(b.w, "%s: %d rows%s, %.0f rows/s, %s elapsed\n", b.label, b.done, pct, rate, now.Sub(b.start).Round(time.Second))
}

// AddBytes records data volume alongside a Rows count (e.g. text read), shown as MB and MB/s.
func (b *Bar) AddBytes(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bytes += n
	if b.bar != nil {
		b.bar.Describe(fmt.Sprintf("%s (%.0f MB)", b.label, float64(b.bytes)/1e6))
	}
}

// Finish ends the report; a plain report prints a final line.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		_ = b.bar.Finish()
		return
	}
	b.printLine(time.Now())
}
