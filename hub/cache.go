package hub

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// repoCache locates one repo's folder in the huggingface_hub cache.
type repoCache struct {
	root   string // the cache dir
	folder string // datasets--ORG--NAME
}

func newRepoCache(cacheDir, repoType, repoID string) repoCache {
	return repoCache{root: cacheDir, folder: repoFolderName(repoType, repoID)}
}

func (rc repoCache) dir() string             { return filepath.Join(rc.root, rc.folder) }
func (rc repoCache) blob(etag string) string { return filepath.Join(rc.dir(), "blobs", etag) }
func (rc repoCache) ref(revision string) string {
	return filepath.Join(rc.dir(), "refs", filepath.FromSlash(revision))
}
func (rc repoCache) snapshot(commit, path string) string {
	return filepath.Join(rc.dir(), "snapshots", commit, filepath.FromSlash(path))
}
func (rc repoCache) lock(etag string) string {
	return filepath.Join(rc.root, ".locks", rc.folder, etag+".lock")
}

// readRef returns the commit a revision resolved to last time, or "" when unknown. A commit hash is its
// own answer. huggingface_hub writes the file without a newline; whitespace is trimmed anyway.
func (rc repoCache) readRef(revision string) string {
	if isCommitHash(revision) {
		return revision
	}
	b, err := os.ReadFile(rc.ref(revision))
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(b))
	if !etagRE.MatchString(c) {
		return ""
	}
	return c
}

// writeRef records revision → commit, atomically, when it changed.
func (rc repoCache) writeRef(revision, commit string) error {
	if revision == commit || rc.readRef(revision) == commit {
		return nil
	}
	return writeFileAtomic(rc.ref(revision), []byte(commit))
}

// writeFileAtomic writes data to path through a temp file and rename, so readers never see half a file.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// pointerOK reports whether a snapshot entry already holds the file described by etag and size: a
// symlink into blobs/<etag> (or, where symlinks are unsupported, a plain file) of the right size.
func pointerOK(pointer, etag string, size int64) bool {
	li, err := os.Lstat(pointer)
	if err != nil {
		return false
	}
	if li.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(pointer)
		if err != nil || filepath.Base(target) != etag {
			return false
		}
	}
	fi, err := os.Stat(pointer)
	return err == nil && fi.Mode().IsRegular() && fi.Size() == size
}

// fileOK reports whether path is a regular file of the given size.
func fileOK(path string, size int64) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Size() == size
}

// linkSnapshot points snapshots/<commit>/<path> at the blob with a relative symlink, as
// huggingface_hub's _create_symlink does, replacing any stale entry atomically. Where symlinks fail
// (some filesystems), it falls back to a hard link, then to a copy.
func linkSnapshot(blob, pointer string) error {
	dir := filepath.Dir(pointer)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rel, err := filepath.Rel(dir, blob)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".tmp-%s-%d", filepath.Base(pointer), os.Getpid()))
	os.Remove(tmp)
	if err := os.Symlink(rel, tmp); err != nil {
		if err := os.Link(blob, tmp); err != nil {
			if err := copyFile(blob, tmp); err != nil {
				return err
			}
		}
	}
	if err := os.Rename(tmp, pointer); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// copyFile copies src to dst (dst must not exist), syncing it before returning.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
	}
	return err
}

// copyFileAtomic copies src over dst through a temp file and rename.
func copyFileAtomic(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(dst), fmt.Sprintf(".tmp-%s-%d", filepath.Base(dst), os.Getpid()))
	os.Remove(tmp)
	if err := copyFile(src, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// snapshotFiles lists the repo paths present under snapshots/<commit>, sorted, for offline pulls.
func (rc repoCache) snapshotFiles(commit string) ([]string, error) {
	root := filepath.Join(rc.dir(), "snapshots", commit)
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		if _, err := os.Stat(p); err != nil {
			return nil // a dangling link: its blob was removed
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return out, err
}
