package report

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/stats"
)

// FuzzRender feeds arbitrary stats.json documents: whatever ParseDocument accepts must render in every
// format without panicking, and the HTML must stay free of scripts.
func FuzzRender(f *testing.F) {
	if b, err := os.ReadFile(fixturePath); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"rows_read": 0, "rows_kept": 0, "by_submix": {}}`))
	f.Add([]byte(`{"rows_read": 1, "rows_kept": 1, "by_submix": {"flan": {"read": 1, "kept": 1}}, "inputs": [{"name": "<script>x</script>"}]}`))
	f.Add([]byte(`{"rows_read": 2, "rows_kept": 1, "dropped": {"r<b>": 1}, "by_submix": {"x|y": {"read": 2, "kept": 1, "dropped": {"r<b>": 1}}},
	  "stages": [{"name": "s", "in": 2, "out": 1, "dropped": {"r<b>": 1}}],
	  "distributions": {"lengths": [{"measure": "question_chars", "rows": "all", "count": 1, "bins": [{"lo": 5, "hi": 5, "count": 1}, {"lo": -3, "hi": 0, "count": -1}]}],
	    "duplicates": {"clusters": 1, "sizes": [{"size": 99, "clusters": 1}]}, "drop_reasons": [{"reason": "r<b>", "rows": 1, "examples": [{"id": "</td>"}]}]},
	  "packing": {"sequence_len": 0, "efficiency": 2}}`))
	// A histogram reaching 5e17 made the decade-tick loop overflow int64.
	f.Add([]byte(`{"rows_read": 0, "rows_kept": 0, "by_submix": {}, "distributions": {"lengths": [{"measure": "question_chars", "rows": "all", "count": 1, "bins": [{"lo": 1, "hi": 500000000000000000, "count": 1}]}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := stats.ParseDocument(b)
		if err != nil {
			return
		}
		for _, format := range Formats {
			var buf bytes.Buffer
			if err := Render(&buf, d, format); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if format == HTML && strings.Contains(strings.ToLower(buf.String()), "<script") {
				t.Fatalf("HTML output contains a script element")
			}
		}
	})
}
