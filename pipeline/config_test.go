package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orcaprep/orcaprep/exitcode"
)

func TestShippedConfigsLoadAndValidate(t *testing.T) {
	files, _ := filepath.Glob("../configs/*.yaml")
	if len(files) < 2 {
		t.Fatalf("expected the shipped configs, found %v", files)
	}
	for _, f := range files {
		c, err := LoadConfig(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

func TestUnknownKeyIsAnErrorNamingIt(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("inputs: [a.parquet]\nselect:\n  submixs: [cot]\n"), 0o644)
	_, err := LoadConfig(p)
	if err == nil || !strings.Contains(err.Error(), "submixs") || exitcode.Code(err) != exitcode.Usage {
		t.Fatalf("want usage error naming submixs, got %v", err)
	}
}

func TestValidateRejectsBadValues(t *testing.T) {
	for _, mut := range []func(*Config){
		func(c *Config) { c.Format = "csv" },
		func(c *Config) { c.ChatML.Style = "vicuna" },
		func(c *Config) { c.Select.Submixes = []string{"dolly"} },
		func(c *Config) { c.Output.Compression = "lz4" },
		func(c *Config) { c.Inputs = nil },
		func(c *Config) { c.Select.Files = []string{"[a"} },
	} {
		c := DefaultConfig()
		c.Inputs = []string{"x.parquet"}
		mut(&c)
		if err := c.Validate(); exitcode.Code(err) != exitcode.Usage {
			t.Errorf("bad config accepted: %+v (%v)", c, err)
		}
	}
}

func TestCanonicalConfigIgnoresWorkers(t *testing.T) {
	a, b := DefaultConfig(), DefaultConfig()
	b.Workers = 7
	b.Out = "elsewhere"
	_, sa := a.Canonical()
	_, sb := b.Canonical()
	if sa != sb {
		t.Fatal("workers/out must not change the recipe hash")
	}
	b.Format = FormatMessages
	if _, sc := b.Canonical(); sc == sa {
		t.Fatal("format must change the recipe hash")
	}
}
