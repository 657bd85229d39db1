package hub

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/progress"
)

// Resolve returns the local path of the file behind an hf:// reference, downloading it into the cache
// unless a verified copy is already there (the snapshot path, as hf_hub_download returns it).
// Anything that is not a reference is returned unchanged, so callers can pass every input through it.
func Resolve(ctx context.Context, ref string, o Options) (string, error) {
	if !IsRef(ref) {
		return ref, nil
	}
	r, err := ParseRef(ref)
	if err != nil {
		return "", err
	}
	if r.Path == "" {
		return "", exitcode.Errorf(exitcode.Usage, "Hub reference %q names a repo, not a file", ref)
	}
	c, err := newClient(o)
	if err != nil {
		return "", err
	}
	p, err := c.downloadToCache(ctx, r)
	return p, redact(err, c.o.Token)
}

// downloadToCache is hf_hub_download into the cache: it returns snapshots/<commit>/<path>.
func (c *client) downloadToCache(ctx context.Context, r Ref) (string, error) {
	rc := newRepoCache(c.o.CacheDir, r.RepoType, r.RepoID)
	// A commit revision whose snapshot exists needs no request at all (huggingface_hub does the same).
	if isCommitHash(r.Revision) {
		if p := rc.snapshot(r.Revision, r.Path); fileExists(p) {
			return p, nil
		}
	}
	if c.o.Offline {
		commit := rc.readRef(r.Revision)
		if commit != "" {
			if p := rc.snapshot(commit, r.Path); fileExists(p) {
				return p, nil
			}
		}
		return "", exitcode.Errorf(exitcode.Network, "%s is not in the cache %s and HF_HUB_OFFLINE=1 forbids downloading it (unset HF_HUB_OFFLINE, or pull it on a machine with network access first)", r, c.o.CacheDir)
	}
	m, err := c.head(ctx, r)
	if err != nil {
		return "", err
	}
	if err := rc.writeRef(r.Revision, m.Commit); err != nil {
		return "", exitcode.Errorf(exitcode.Output, "recording %s in %s: %v", r, rc.dir(), err)
	}
	pointer := rc.snapshot(m.Commit, r.Path)
	if pointerOK(pointer, m.ETag, m.Size) {
		return pointer, nil
	}
	blob := rc.blob(m.ETag)
	unlock, err := lockFile(ctx, rc.lock(m.ETag), c.waitingNote(r.Path))
	if err != nil {
		return "", lockError(ctx, r, err)
	}
	defer unlock()
	if !fileOK(blob, m.Size) {
		if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
			return "", exitcode.Errorf(exitcode.Output, "downloading %s: %v", r, err)
		}
		bar := progress.New(c.o.Stderr, c.o.Progress, r.Path, m.Size, progress.Bytes)
		err := c.fetch(ctx, r.String(), c.resolveURL(r.RepoType, r.RepoID, m.Commit, r.Path), m, blob+".incomplete", blob, bar)
		bar.Finish()
		if err != nil {
			return "", err
		}
	}
	if err := linkSnapshot(blob, pointer); err != nil {
		return "", exitcode.Errorf(exitcode.Output, "linking %s to %s: %v", pointer, blob, err)
	}
	return pointer, nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func (c *client) waitingNote(name string) func() {
	return func() {
		if c.o.Stderr != nil && c.o.Progress != progress.Never {
			fmt.Fprintf(c.o.Stderr, "orcaprep: %s: waiting for another download of the same file to finish\n", name)
		}
	}
}

func lockError(ctx context.Context, r Ref, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return exitcode.Errorf(exitcode.Output, "locking %s: %v", r, err)
}

// localPaths are the files of one download into a --local-dir, named as huggingface_hub names them
// (_local_folder.py), so either tool recognises the other's downloads.
type localPaths struct {
	file, metadata, lock string
}

func newLocalPaths(dir, path string) localPaths {
	rel := filepath.FromSlash(path)
	meta := filepath.Join(dir, ".cache", "huggingface", "download", rel+".metadata")
	return localPaths{
		file:     filepath.Join(dir, rel),
		metadata: meta,
		lock:     strings.TrimSuffix(meta, ".metadata") + ".lock",
	}
}

func (lp localPaths) incomplete(etag string) string {
	return strings.TrimSuffix(lp.metadata, ".metadata") + "." + etag + ".incomplete"
}

type localMeta struct {
	commit, etag string
}

// readLocalMeta returns the recorded commit and etag of a local-dir file, or false when there is no
// record or the file changed after it was written (huggingface_hub allows 1 s of mtime slack).
func readLocalMeta(lp localPaths) (localMeta, bool) {
	f, err := os.Open(lp.metadata)
	if err != nil {
		return localMeta{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var lines []string
	for sc.Scan() && len(lines) < 3 {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if len(lines) < 3 {
		return localMeta{}, false
	}
	ts, err := strconv.ParseFloat(lines[2], 64)
	if err != nil {
		return localMeta{}, false
	}
	fi, err := os.Stat(lp.file)
	if err != nil || !fi.Mode().IsRegular() {
		return localMeta{}, false
	}
	if float64(fi.ModTime().UnixNano())/1e9-1 > ts {
		return localMeta{}, false
	}
	return localMeta{commit: lines[0], etag: lines[1]}, true
}

func writeLocalMeta(lp localPaths, commit, etag string) error {
	ts := float64(time.Now().UnixNano()) / 1e9
	return writeFileAtomic(lp.metadata, []byte(fmt.Sprintf("%s\n%s\n%s\n", commit, etag, strconv.FormatFloat(ts, 'f', 6, 64))))
}

// ensureLocalDirIgnore writes .cache/huggingface/.gitignore ("*") as huggingface_hub does, so the
// download bookkeeping never ends up in a user's git repo.
func ensureLocalDirIgnore(dir string) error {
	p := filepath.Join(dir, ".cache", "huggingface", ".gitignore")
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	return writeFileAtomic(p, []byte("*"))
}

// downloadToLocalDir is hf_hub_download(local_dir=DIR): the file lands at DIR/<path> with its
// bookkeeping under DIR/.cache/huggingface/download. A blob already in the cache is copied, not fetched.
func (c *client) downloadToLocalDir(ctx context.Context, r Ref, dir string) (string, error) {
	lp := newLocalPaths(dir, r.Path)
	if err := ensureLocalDirIgnore(dir); err != nil {
		return "", exitcode.Errorf(exitcode.Output, "preparing %s: %v", dir, err)
	}
	lm, have := readLocalMeta(lp)
	if have && isCommitHash(r.Revision) && lm.commit == r.Revision {
		return lp.file, nil
	}
	if c.o.Offline {
		if have {
			return lp.file, nil
		}
		return "", exitcode.Errorf(exitcode.Network, "%s is not in %s and HF_HUB_OFFLINE=1 forbids downloading it", r, dir)
	}
	m, err := c.head(ctx, r)
	if err != nil {
		return "", err
	}
	if have && lm.etag == m.ETag && fileOK(lp.file, m.Size) {
		return lp.file, c.localMetaErr(writeLocalMeta(lp, m.Commit, m.ETag), lp)
	}
	unlock, err := lockFile(ctx, lp.lock, c.waitingNote(r.Path))
	if err != nil {
		return "", lockError(ctx, r, err)
	}
	defer unlock()
	// A file already there with the right content (downloaded by other means) is kept; only LFS
	// files are checked, as huggingface_hub does, because only their etag is a plain content hash.
	if m.LFS && verifierFor(m) == verifySHA256 && fileOK(lp.file, m.Size) {
		if sum, err := sha256File(lp.file); err == nil && sum == m.ETag {
			return lp.file, c.localMetaErr(writeLocalMeta(lp, m.Commit, m.ETag), lp)
		}
	}
	if blob := newRepoCache(c.o.CacheDir, r.RepoType, r.RepoID).blob(m.ETag); fileOK(blob, m.Size) {
		if err := copyFileAtomic(blob, lp.file); err != nil {
			return "", exitcode.Errorf(exitcode.Output, "copying %s to %s: %v", blob, lp.file, err)
		}
		return lp.file, c.localMetaErr(writeLocalMeta(lp, m.Commit, m.ETag), lp)
	}
	if err := os.MkdirAll(filepath.Dir(lp.file), 0o755); err != nil {
		return "", exitcode.Errorf(exitcode.Output, "downloading %s: %v", r, err)
	}
	bar := progress.New(c.o.Stderr, c.o.Progress, r.Path, m.Size, progress.Bytes)
	err = c.fetch(ctx, r.String(), c.resolveURL(r.RepoType, r.RepoID, m.Commit, r.Path), m, lp.incomplete(m.ETag), lp.file, bar)
	bar.Finish()
	if err != nil {
		return "", err
	}
	return lp.file, c.localMetaErr(writeLocalMeta(lp, m.Commit, m.ETag), lp)
}

func (c *client) localMetaErr(err error, lp localPaths) error {
	if err != nil {
		return exitcode.Errorf(exitcode.Output, "writing %s: %v", lp.metadata, err)
	}
	return nil
}

func sha256File(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
