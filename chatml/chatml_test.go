package chatml

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/orca"
)

// The golden files are written by scripts/node/chatml-golden.mjs: Axolotl's chatml.jinja rendered by
// Hugging Face's Jinja engine, and the 2023 loader's Python format strings. They are not written by this package.
type goldenCase struct {
	Name         string `json:"name"`
	ID           string `json:"id"`
	SystemPrompt string `json:"system_prompt"`
	Question     string `json:"question"`
	Response     string `json:"response"`
	EmptySystem  bool   `json:"empty_system"`
}

func loadCases(t *testing.T) []goldenCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cs []goldenCase
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs) == 0 {
		t.Fatal("no cases")
	}
	return cs
}

func TestGolden(t *testing.T) {
	checked := 0
	for _, c := range loadCases(t) {
		r := &orca.Record{ID: c.ID, SystemPrompt: c.SystemPrompt, Question: c.Question, Response: c.Response}
		for _, st := range Styles {
			path := filepath.Join("testdata", c.Name+"."+string(st)+".golden")
			want, err := os.ReadFile(path)
			if os.IsNotExist(err) && st == StyleOpenOrca2023 && c.EmptySystem {
				continue // the 2023 loader has no empty-system variant
			}
			if err != nil {
				t.Fatal(err)
			}
			got := Text(r, Options{Style: st, EmptySystem: c.EmptySystem})
			if got != string(want) {
				t.Errorf("%s %s:\n got %q\nwant %q", c.Name, st, got, want)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("only %d golden files checked", checked)
	}
}

func TestPromptPlusCompletionIsText(t *testing.T) {
	for _, c := range loadCases(t) {
		r := &orca.Record{SystemPrompt: c.SystemPrompt, Question: c.Question, Response: c.Response}
		for _, st := range Styles {
			o := Options{Style: st}
			p := string(AppendPrompt(nil, r, o))
			full := Text(r, o)
			if !strings.HasPrefix(full, p) || !strings.HasSuffix(p, ImStart+"assistant\n") {
				t.Fatalf("%s/%s: prompt %q is not the assistant-header-terminated prefix of %q", c.Name, st, p, full)
			}
			if got := p + string(AppendCompletion(nil, r, o)); got != full {
				t.Fatalf("%s/%s: prompt+completion %q != text %q", c.Name, st, got, full)
			}
			// Piece by piece through an appender (the pipeline JSON-escapes each piece) is the same text.
			pieces := 0
			with := AppendTextWith([]byte("x"), r, o, func(dst []byte, s string) []byte { pieces++; return append(dst, s...) })
			if string(with) != "x"+full || pieces < 5 {
				t.Fatalf("%s/%s: AppendTextWith %q (%d pieces) != text %q", c.Name, st, with, pieces, full)
			}
		}
	}
}

func TestMessagesMatchRendering(t *testing.T) {
	r := &orca.Record{SystemPrompt: "", Question: "q", Response: "a"}
	if m := Messages(r, Options{Style: StyleChatML}); len(m) != 2 || m[0].Role != "user" {
		t.Fatalf("empty system must be omitted: %+v", m)
	}
	if m := Messages(r, Options{Style: StyleChatML, EmptySystem: true}); len(m) != 3 || m[0].Role != "system" {
		t.Fatalf("empty system kept on request: %+v", m)
	}
}

func TestParseStyle(t *testing.T) {
	if _, err := ParseStyle("chatml"); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseStyle("alpaca"); err == nil {
		t.Fatal("unknown style accepted")
	}
}

func TestMarkupLen(t *testing.T) {
	for _, c := range loadCases(t) {
		r := &orca.Record{SystemPrompt: c.SystemPrompt, Question: c.Question, Response: c.Response}
		for _, st := range Styles {
			o := Options{Style: st, EmptySystem: c.EmptySystem}
			content := len(r.Question) + len(r.Response)
			if len(Messages(r, o)) == 3 {
				content += len(r.SystemPrompt)
			}
			if got, want := MarkupLen(r, o)+content, len(Text(r, o)); got != want {
				t.Fatalf("%s/%s: markup+content %d, text %d", c.Name, st, got, want)
			}
		}
	}
}
