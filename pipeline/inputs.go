package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/orcaprep/orcaprep/exitcode"
)

// Input is one resolved input file.
type Input struct {
	// Source is what the user wrote (a path or an hf:// reference).
	Source string `json:"source"`
	// Path is the local file read.
	Path string `json:"-"`
	// Name is the file's base name, matched by select.files.
	Name     string `json:"name"`
	Bytes    int64  `json:"bytes"`
	Rows     int64  `json:"rows"`
	Selected bool   `json:"selected"`
}

// Resolver turns an hf:// reference into a local path (downloading it into the cache if needed).
type Resolver func(ctx context.Context, ref string) (string, error)

// expandInputs turns config inputs into files: globs are expanded, directories contribute their
// *.parquet files, hf:// references are resolved. Order is the config's, then lexical within a glob or folder,
// because input order decides which duplicate is kept.
func expandInputs(ctx context.Context, inputs []string, resolve Resolver) ([]Input, error) {
	var out []Input
	for _, in := range inputs {
		switch {
		case strings.HasPrefix(in, "hf://"):
			if resolve == nil {
				return nil, exitcode.Errorf(exitcode.Usage, "input %s: Hugging Face references are not supported here", in)
			}
			p, err := resolve(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("input %s: %w", in, err)
			}
			out = append(out, Input{Source: in, Path: p, Name: filepath.Base(p)})
		case strings.ContainsAny(in, "*?["):
			matches, err := filepath.Glob(in)
			if err != nil {
				return nil, exitcode.Errorf(exitcode.Usage, "input %s: bad glob: %w", in, err)
			}
			if len(matches) == 0 {
				return nil, exitcode.Errorf(exitcode.Input, "input %s: no file matches", in)
			}
			sort.Strings(matches)
			for _, m := range matches {
				out = append(out, Input{Source: m, Path: m, Name: filepath.Base(m)})
			}
		default:
			st, err := os.Stat(in)
			if err != nil {
				return nil, exitcode.Errorf(exitcode.Input, "input %s: %w", in, err)
			}
			if !st.IsDir() {
				out = append(out, Input{Source: in, Path: in, Name: filepath.Base(in)})
				continue
			}
			matches, _ := filepath.Glob(filepath.Join(in, "*.parquet"))
			if len(matches) == 0 {
				return nil, exitcode.Errorf(exitcode.Input, "input %s: directory has no *.parquet files", in)
			}
			sort.Strings(matches)
			for _, m := range matches {
				out = append(out, Input{Source: m, Path: m, Name: filepath.Base(m)})
			}
		}
	}
	return out, nil
}
