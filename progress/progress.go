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
	shown   int64 // bytes in the bar's description
	start   time.Time
	lastOut time.Time
	ended   bool // Finish or Stop ran: the bar's line is ended and nothing more is drawn
}

// New starts a progress report on w (normally os.Stderr). total <= 0 means unknown.
func New(w io.Writer, mode Mode, label string, total int64, unit Unit) *Bar {
	return newBar(w, mode, label, total, unit, isTerminal(w))
}

func newBar(w io.Writer, mode Mode, label string, total int64, unit Unit, terminal bool) *Bar {
	if mode == Never || w == nil {
		return nil
	}
	b := &Bar{w: w, label: label, unit: unit, total: total, start: time.Now()}
	b.lastOut = b.start
	if mode == Auto && terminal {
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString(unitName(unit)),
			progressbar.OptionShowIts(),
			progressbar.OptionThrottle(200 * time.Millisecond),
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
	if b.ended {
		return
	}
	if b.bar != nil {
		// The description is updated here, before the count, and never after the bar completed:
		// progressbar redraws a finished bar on Describe, which drew it twice, after its line had ended.
		if b.bytes != b.shown {
			b.shown = b.bytes
			b.bar.Describe(b.describe())
		}
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

// AddBytes records data volume alongside a Rows count (e.g. text read), shown as MB and MB/s. A terminal
// bar shows it from the next Add on: call AddBytes before Add for the same batch.
func (b *Bar) AddBytes(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bytes += n // shown by the next Add
}

// describe is a terminal bar's label: the task and the volume of text read so far, e.g.
// "orcaprep run (112 MB text)".
func (b *Bar) describe() string {
	return fmt.Sprintf("%s (%.0f MB text)", b.label, float64(b.bytes)/1e6)
}

// Finish ends the report: a terminal bar is drawn complete once and its line ended; a plain report prints
// a final line. Later calls, and Stop, do nothing.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return
	}
	b.ended = true
	if b.bar != nil {
		// The Add that reached the total has already drawn the complete bar: drawing it again would
		// print it twice.
		if !b.bar.IsFinished() {
			_ = b.bar.Finish()
		}
		_ = b.bar.Exit()
		fmt.Fprintln(b.w)
		return
	}
	b.printLine(time.Now())
}

// Stop ends a terminal bar's line where it stands (after an error or an interrupt), so that the next message
// starts on its own line. A plain report prints nothing more. Safe to call after Finish.
func (b *Bar) Stop() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return
	}
	b.ended = true
	if b.bar != nil {
		_ = b.bar.Exit()
		fmt.Fprintln(b.w)
	}
}
