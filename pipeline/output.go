package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/orcaprep/orcaprep/exitcode"
)

// staging is an output directory being built beside OUT. Nothing appears under OUT until the whole run
// succeeded; then the staging directory replaces OUT in one rename, so OUT never mixes old and new shards
// and a failed run leaves OUT as it was.
type staging struct {
	out string
	dir string
}

func newStaging(out string, overwrite bool) (*staging, error) {
	out = filepath.Clean(out)
	if st, err := os.Stat(out); err == nil {
		if !st.IsDir() {
			return nil, exitcode.Errorf(exitcode.Output, "output %s exists and is not a directory", out)
		}
		ents, err := os.ReadDir(out)
		if err != nil {
			return nil, exitcode.Errorf(exitcode.Output, "output %s: %w", out, err)
		}
		if len(ents) > 0 && !overwrite {
			return nil, exitcode.Errorf(exitcode.Output, "output directory %s is not empty; pass --overwrite to replace it", out)
		}
	} else if !os.IsNotExist(err) {
		return nil, exitcode.Errorf(exitcode.Output, "output %s: %w", out, err)
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, exitcode.Errorf(exitcode.Output, "create %s: %w", parent, err)
	}
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".orcaprep-tmp-")
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Output, "create staging directory beside %s: %w", out, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, exitcode.Errorf(exitcode.Output, "chmod %s: %w", dir, err)
	}
	return &staging{out: out, dir: dir}, nil
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
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", rel, err)
	}
	return writeFileAtomic(p, append(b, '\n'))
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

// commit replaces OUT with the staging directory.
func (s *staging) commit() error {
	var old string
	if _, err := os.Stat(s.out); err == nil {
		old = s.dir + ".old"
		if err := os.Rename(s.out, old); err != nil {
			return exitcode.Errorf(exitcode.Output, "move old %s aside: %w", s.out, err)
		}
	}
	if err := os.Rename(s.dir, s.out); err != nil {
		if old != "" {
			os.Rename(old, s.out)
		}
		return exitcode.Errorf(exitcode.Output, "move output into %s: %w", s.out, err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return exitcode.Errorf(exitcode.Output, "remove old output %s: %w", old, err)
		}
	}
	return nil
}

// abort removes everything the run wrote.
func (s *staging) abort() { os.RemoveAll(s.dir) }
