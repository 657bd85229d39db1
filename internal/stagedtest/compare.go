package stagedtest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Outputs is what must be byte-identical between `orcaprep run` and a staged run: every file of data/,
// index/ and rejected/ (by name) and manifest.json. axolotl.yaml names OUT's path; stats.json and report.html
// hold timings (stats.json is compared apart, by StatsWithoutTiming).
func Outputs(t testing.TB, out string) map[string][]byte {
	t.Helper()
	got := map[string][]byte{}
	for _, d := range []string{"data", "index", "rejected"} {
		files, _ := filepath.Glob(filepath.Join(out, d, "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got[d+"/"+filepath.Base(f)] = b
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	got["manifest.json"] = b
	return got
}

// StatsWithoutTiming is out's stats.json without its timing.
func StatsWithoutTiming(t testing.TB, out string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "timing")
	return m
}

// Same fails t unless the output directory got holds run's Outputs (want) byte for byte and, when wantStats
// is not nil, run's StatsWithoutTiming.
func Same(t testing.TB, label string, want map[string][]byte, wantStats map[string]any, got string) {
	t.Helper()
	g := Outputs(t, got)
	if len(g) != len(want) {
		t.Errorf("%s: %d files, run wrote %d", label, len(g), len(want))
	}
	for name, wb := range want {
		if gb, ok := g[name]; !ok {
			t.Errorf("%s: %s missing", label, name)
		} else if !bytes.Equal(wb, gb) {
			t.Errorf("%s: %s differs from run's (%d vs %d bytes)", label, name, len(gb), len(wb))
		}
	}
	if wantStats != nil && !reflect.DeepEqual(wantStats, StatsWithoutTiming(t, got)) {
		t.Errorf("%s: stats.json differs from run's (timing aside)", label)
	}
}
