package hub

import (
	"testing"

	"github.com/orcaprep/orcaprep/exitcode"
)

func TestParseRef(t *testing.T) {
	cases := []struct {
		in   string
		want Ref
	}{
		{"hf://datasets/Open-Orca/OpenOrca/1M-GPT4-Augmented.parquet", Ref{TypeDataset, "Open-Orca/OpenOrca", "main", "1M-GPT4-Augmented.parquet"}},
		{"hf://datasets/Open-Orca/OpenOrca@v1.0/data/x.parquet", Ref{TypeDataset, "Open-Orca/OpenOrca", "v1.0", "data/x.parquet"}},
		{"hf://conceptofmind/LLongMA-2-7b-16k/tokenizer.model", Ref{TypeModel, "conceptofmind/LLongMA-2-7b-16k", "main", "tokenizer.model"}},
		{"hf://spaces/org/app@abc/app.py", Ref{TypeSpace, "org/app", "abc", "app.py"}},
		{"hf://datasets/org/ds@refs/pr/12/a/b.parquet", Ref{TypeDataset, "org/ds", "refs/pr/12", "a/b.parquet"}},
		{"hf://datasets/org/ds@refs%2Fconvert%2Fparquet/default/train/0000.parquet", Ref{TypeDataset, "org/ds", "refs/convert/parquet", "default/train/0000.parquet"}},
		{"hf://datasets/org/ds@refs/convert/parquet/x", Ref{TypeDataset, "org/ds", "refs/convert/parquet", "x"}},
		{"hf://datasets/Open-Orca/OpenOrca", Ref{TypeDataset, "Open-Orca/OpenOrca", "main", ""}},
		{"hf://org/model/dir/", Ref{TypeModel, "org/model", "main", "dir"}},
	}
	for _, c := range cases {
		got, err := ParseRef(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
			continue
		}
		// String round-trips.
		back, err := ParseRef(got.String())
		if err != nil || back != got {
			t.Errorf("round trip of %q via %q = %+v, %v", c.in, got.String(), back, err)
		}
	}
	for _, bad := range []string{
		"datasets/Open-Orca/OpenOrca/x", // no scheme
		"hf://", "hf://datasets/", "hf://datasets/onlyorg",
		"hf://org/model/../../etc/passwd", "hf://org/model/a//b", "hf://org/mo del/x",
		"hf://org/model@/x", "hf://org/model@%zz/x", "hf://org/model@../x",
	} {
		if _, err := ParseRef(bad); exitcode.Code(err) != exitcode.Usage {
			t.Errorf("ParseRef(%q) accepted or wrong code: %v", bad, err)
		}
	}
	if !IsRef("hf://a/b") || IsRef("/data/hf://a") || IsRef("a.parquet") {
		t.Error("IsRef")
	}
}

func TestURLsAndFolders(t *testing.T) {
	c := &client{o: Options{Endpoint: "https://hub.example"}}
	if got := c.resolveURL(TypeDataset, "Open-Orca/OpenOrca", "refs/pr/1", "dir/a b#.parquet"); got != "https://hub.example/datasets/Open-Orca/OpenOrca/resolve/refs%2Fpr%2F1/dir/a%20b%23.parquet" {
		t.Errorf("resolveURL = %s", got)
	}
	if got := c.resolveURL(TypeModel, "o/m", "main", "x"); got != "https://hub.example/o/m/resolve/main/x" {
		t.Errorf("model resolveURL = %s", got)
	}
	if got := repoFolderName(TypeDataset, "Open-Orca/OpenOrca"); got != "datasets--Open-Orca--OpenOrca" {
		t.Errorf("folder %s", got)
	}
	if got := repoFolderName(TypeModel, "conceptofmind/LLongMA-2-7b-16k"); got != "models--conceptofmind--LLongMA-2-7b-16k" {
		t.Errorf("folder %s", got)
	}
	for in, want := range map[string]string{`"abc"`: "abc", `W/"abc"`: "abc", "abc": "abc", ` "x" `: "x"} {
		if got := normalizeETag(in); got != want {
			t.Errorf("normalizeETag(%q) = %q", in, got)
		}
	}
}

func TestFnmatch(t *testing.T) {
	cases := []struct {
		pattern, path string
		want          bool
	}{
		{"*.parquet", "1M-GPT4-Augmented.parquet", true},
		{"*.parquet", "data/sub/x.parquet", true}, // fnmatch's * crosses "/"
		{"*.parquet", "README.md", false},
		{"1M-GPT4-Augmented.parquet", "1M-GPT4-Augmented.parquet", true},
		{"1M-GPT4-Augmented.parquet", "x/1M-GPT4-Augmented.parquet", false},
		{"3_5M*", "3_5M-GPT3_5-Augmented.parquet", true},
		{"data/", "data/sub/x.parquet", true},
		{"data/", "database.txt", false},
		{"?.txt", "a.txt", true},
		{"?.txt", "ab.txt", false},
		{"[ab].txt", "b.txt", true},
		{"[!ab].txt", "b.txt", false},
		{"[!ab].txt", "c.txt", true},
		{"a[.txt", "a[.txt", true},
		{"a+b(c).txt", "a+b(c).txt", true},
		{"tokenizer*", "tokenizer.model", true},
	}
	for _, c := range cases {
		g, err := newGlobMatcher([]string{c.pattern})
		if err != nil {
			t.Fatal(err)
		}
		if got := g.match(c.path); got != c.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", c.path, c.pattern, got, c.want)
		}
	}
}
