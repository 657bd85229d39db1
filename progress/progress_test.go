package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPlainModeWritesLinesWithoutCarriageReturns(t *testing.T) {
	old := PlainInterval
	PlainInterval = 0
	defer func() { PlainInterval = old }()
	var buf bytes.Buffer
	b := New(&buf, Auto, "read", 100, Rows) // a bytes.Buffer is not a terminal
	b.Add(10)
	b.Add(20)
	b.AddBytes(3_000_000)
	b.Finish()
	out := buf.String()
	if strings.Contains(out, "\r") {
		t.Fatalf("plain progress must not use carriage returns: %q", out)
	}
	if got := strings.Count(out, "\n"); got != 3 {
		t.Fatalf("want 3 lines, got %d: %q", got, out)
	}
	if !strings.Contains(out, "read: 30 rows (30.0%), 3.0 MB") {
		t.Fatalf("final line missing count: %q", out)
	}
}

func TestPlainModeThrottles(t *testing.T) {
	old := PlainInterval
	PlainInterval = time.Hour
	defer func() { PlainInterval = old }()
	var buf bytes.Buffer
	b := New(&buf, Auto, "read", 0, Bytes)
	for i := 0; i < 1000; i++ {
		b.Add(1)
	}
	if buf.Len() != 0 {
		t.Fatalf("no line expected before the interval, got %q", buf.String())
	}
	b.Finish()
	if !strings.Contains(buf.String(), "MB") {
		t.Fatalf("bytes unit not shown: %q", buf.String())
	}
}

func TestNeverAndNilAreSilent(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, Never, "x", 1, Rows)
	b.Add(1)
	b.Finish()
	if buf.Len() != 0 || b != nil {
		t.Fatalf("quiet mode wrote %q", buf.String())
	}
}

// A terminal bar draws its complete state once, ends its line, and draws nothing after Finish or Stop.
func TestTerminalBarDrawsCompletionOnceAndEndsItsLine(t *testing.T) {
	var buf bytes.Buffer
	b := newBar(&buf, Auto, "orcaprep run", 2000, Rows, true)
	for i := 0; i < 4; i++ {
		b.AddBytes(30_000_000)
		b.Add(500)
	}
	b.Finish()
	b.Finish()
	b.Stop()
	b.Add(10)
	out := buf.String()
	if n := strings.Count(out, "100%"); n != 1 {
		t.Fatalf("complete bar drawn %d times:\n%q", n, out)
	}
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("the bar's line must end exactly once, at the end:\n%q", out)
	}
	if !strings.Contains(out[strings.LastIndex(out, "\r")+1:], "orcaprep run (120 MB text) 100%") {
		t.Fatalf("final state lacks the text volume:\n%q", out)
	}

	buf.Reset()
	b = newBar(&buf, Auto, "orcaprep run", 2000, Rows, true)
	b.Add(500)
	b.Stop() // an interrupt: the line ends where the bar stands
	b.Finish()
	if out := buf.String(); strings.Contains(out, "100%") || !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("stopped bar:\n%q", out)
	}
}
