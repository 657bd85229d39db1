package tokenizer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/exitcode"
)

func TestRunTokenizeOrderAndIDs(t *testing.T) {
	rows := readGolden(t, "tiny_golden.jsonl.gz")
	var in bytes.Buffer
	for i := 0; i < 3000; i++ { // several batches, so workers finish out of order
		r := rows[i%len(rows)]
		b, _ := json.Marshal(map[string]any{"id": i, "text": r.Text})
		in.Write(b)
		in.WriteByte('\n')
		if i%500 == 0 {
			in.WriteString("  \n") // blank lines are skipped
		}
	}
	var out bytes.Buffer
	resolved := ""
	err := RunTokenize(context.Background(), TokenizeOptions{
		Tokenizer: "tiny", AddedTokens: []string{"<|im_start|>"}, BOS: true, EOS: true, Workers: 4,
		Stdin: &in, Stdout: &out,
		Resolve: func(_ context.Context, ref string) (string, error) { resolved = ref; return tinyModel, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if resolved != "tiny" {
		t.Fatalf("Resolve got %q", resolved)
	}
	tk := mustLoad(t, tinyModel)
	tk.AddTokens("<|im_start|>")
	e := tk.NewEncoder()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3000 {
		t.Fatalf("%d output lines, want 3000", len(lines))
	}
	for i, l := range lines {
		var got struct{ IDs []int32 }
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		want := append([]int32{tk.BOS()}, e.Encode(rows[i%len(rows)].Text)...)
		want = append(want, tk.EOS())
		if !slices.Equal(got.IDs, want) {
			t.Fatalf("line %d: got %v want %v", i+1, head(got.IDs), head(want))
		}
	}
}

func TestRunTokenizeErrors(t *testing.T) {
	var good strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&good, "{\"text\":\"row %d\"}\n", i)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(file, []byte(good.String()+"{\"text\": 5}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		opts  TokenizeOptions
		input string
		code  int
		msg   string
	}{
		{"bad JSON", TokenizeOptions{Tokenizer: tinyModel}, good.String() + "{oops\n" + good.String(), exitcode.Input, "stdin line 1001: invalid JSON"},
		{"no text", TokenizeOptions{Tokenizer: tinyModel}, "{\"text\":\"a\"}\n{\"question\":\"b\"}\n", exitcode.Input, `line 2: no "text" string field`},
		{"text not a string", TokenizeOptions{Tokenizer: tinyModel, Input: file}, "", exitcode.Input, "in.jsonl line 1001: invalid JSON"},
		{"missing input", TokenizeOptions{Tokenizer: tinyModel, Input: filepath.Join(dir, "nope.jsonl")}, "", exitcode.Input, "nope.jsonl"},
		{"bad tokenizer", TokenizeOptions{Tokenizer: file}, "", exitcode.Input, "in.jsonl"},
		{"no tokenizer", TokenizeOptions{}, "", exitcode.Usage, "--tokenizer"},
		{"empty added token", TokenizeOptions{Tokenizer: tinyModel, AddedTokens: []string{""}}, "", exitcode.Usage, "added-token"},
	}
	for _, c := range cases {
		c.opts.Stdin, c.opts.Stdout = strings.NewReader(c.input), &bytes.Buffer{}
		c.opts.Workers = 2
		err := RunTokenize(context.Background(), c.opts)
		if err == nil || exitcode.Code(err) != c.code || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v (code %d), want code %d and %q", c.name, err, exitcode.Code(err), c.code, c.msg)
		}
	}
}
