package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/outdir"
)

// staging is the output directory being built beside OUT (see the outdir package: lock, debris, swap).
// Nothing appears under OUT until the whole run succeeded; then the staging directory replaces OUT in one
// atomic swap, so OUT never mixes old and new shards and a failed or interrupted run leaves OUT as it was.
type staging struct {
	out string
	dir string
	od  *outdir.Dir
}

// openOutput locks OUT for the run and creates its staging directory; see outdir.Open.
func openOutput(out string, overwrite bool, stderr io.Writer, reads []string) (*staging, error) {
	od, err := outdir.Open(out, outdir.Options{Overwrite: overwrite, Stderr: stderr, Reads: reads,
		AfterSwap: func() { pauseAt(context.Background(), PhaseSwapped) }})
	if err != nil {
		return nil, err
	}
	return &staging{out: od.Out, dir: od.Staging, od: od}, nil
}

// path returns a path inside the staging directory, creating its parent.
func (s *staging) path(rel string) (string, error) {
	p := filepath.Join(s.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", exitcode.Errorf(exitcode.Output, "create %s: %w", filepath.Dir(p), err)
	}
	return p, nil
}

// rel turns a staging path into the path relative to OUT, as recorded in the manifest.
func (s *staging) rel(p string) string {
	r, err := filepath.Rel(s.dir, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// writeJSON writes v as indented JSON to rel under a temporary name, then renames it.
func (s *staging) writeJSON(rel string, v any) error {
	p, err := s.path(rel)
	if err != nil {
		return err
	}
	b, err := marshalJSON(v, "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", rel, err)
	}
	return writeFileAtomic(p, b)
}

// marshalJSON encodes v (indented when indent is not empty) with a final newline and without HTML
// escaping: encoding/json would write <|im_start|> as \u003c|im_start|\u003e.
func marshalJSON(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeFileAtomic(p string, b []byte) error {
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		os.Remove(tmp)
		return exitcode.Errorf(exitcode.Output, "write %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return exitcode.Errorf(exitcode.Output, "rename %s: %w", p, err)
	}
	return nil
}

// commit replaces OUT with the staging directory, atomically (outdir.Dir.Commit).
func (s *staging) commit(ctx context.Context) error { return s.od.Commit(ctx) }

// close removes the staging directory unless committed, and releases OUT's lock.
func (s *staging) close() { s.od.Close() }
