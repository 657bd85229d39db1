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
