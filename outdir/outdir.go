package outdir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
)

// Names beside OUT (in OUT's parent), all hidden and all derived from OUT's base name so that two outputs
// in one parent never touch each other's files:
//
//	.OUT.orcaprep-lock          the lock: held (flock) for the whole run, records pid, host and start time
//	.OUT.orcaprep-tmp-PID-RAND  a run's staging directory; after the swap, the previous output being deleted
//	.OUT.orcaprep-old           only with the two-rename fallback: the previous output between the renames
const (
	lockSuffix    = ".orcaprep-lock"
	stagingInfix  = ".orcaprep-tmp-"
	oldSuffix     = ".orcaprep-old"
	manifestName  = "manifest.json"
	stagingPrefix = "." // every name above starts with "." + base
)

// forceFallback makes the commit use the two-rename fallback even where RENAME_EXCHANGE works (tests).
var forceFallback = os.Getenv("ORCAPREP_TEST_RENAME_FALLBACK") != ""

// fixedNames are the files at the top of OUT that every orcaprep output has, whatever its manifest lists.
var fixedNames = []string{manifestName, "stats.json", "report.html", "axolotl.yaml"}

// Options tune Open.
type Options struct {
	// Overwrite allows replacing an existing orcaprep output (never a directory holding anything else).
	Overwrite bool
	// Stderr receives notices: debris of killed runs removed, a previous output restored, a stale lock
	// taken over. Nil is silent.
	Stderr io.Writer
	// AfterSwap, when set, is called once OUT holds the new output, before the previous one is deleted
	// (a hook point for crash tests).
	AfterSwap func()
	// Reads are the local files, directories or globs the run reads (inputs, tokenizer): OUT may not be one
	// of them or contain one, since replacing OUT would delete them. Checked before anything is created.
	Reads []string
}

// Dir is an output directory opened for one run: locked, with an empty staging directory beside it.
type Dir struct {
	// Out is OUT as the user wrote it (cleaned), for messages.
	Out string
	// Staging is the directory the run writes into; Commit makes it OUT.
	Staging string

	real      string // OUT with symlinks resolved: the path that is swapped
	parent    string
	base      string
	lock      *lock
	stderr    io.Writer
	overwrite bool
	committed bool
	afterSwap func()
}

// Open checks that out may be replaced, takes its lock (failing at once, naming the holder, when another run
// has it), reclaims what killed runs left beside it, and creates the staging directory. Errors carry exit
// code 4 (output problem). Close must be called in every case once Open succeeded.
func Open(out string, o Options) (*Dir, error) {
	display := filepath.Clean(out)
	real, err := resolve(display)
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Output, "output %s: %w", display, err)
	}
	if err := checkPlace(display, real); err != nil {
		return nil, err
	}
	d := &Dir{Out: display, real: real, parent: filepath.Dir(real), base: filepath.Base(real), stderr: o.Stderr, overwrite: o.Overwrite, afterSwap: o.AfterSwap}
	if err := d.CheckInputs(o.Reads); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(d.parent, 0o755); err != nil {
		return nil, exitcode.Errorf(exitcode.Output, "create %s: %w", d.parent, err)
	}
	if d.lock, err = acquire(d.sibling(lockSuffix), display, o.Stderr); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			d.lock.release()
		}
	}()
	if err := d.reclaim(); err != nil {
		return nil, err
	}
	if err := d.checkOut(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(d.parent, stagingPrefix+d.base+stagingInfix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Output, "create staging directory beside %s: %w", display, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, exitcode.Errorf(exitcode.Output, "chmod %s: %w", dir, err)
	}
	d.Staging = dir
	ok = true
	return d, nil
}

func (d *Dir) sibling(suffix string) string {
	return filepath.Join(d.parent, stagingPrefix+d.base+suffix)
}

// resolve makes p absolute with every symlink resolved, including a symlink at OUT itself: a user whose OUT
// points to a bigger disk gets the output there, and the swap happens beside the real directory.
func resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	// Resolve the longest existing prefix; the rest does not exist yet.
	rest := ""
	cur := abs
	for {
		if _, err := os.Lstat(cur); err == nil {
			break
		}
		next := filepath.Dir(cur)
		if next == cur {
			break
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = next
	}
	r, err := filepath.EvalSymlinks(cur)
	if err != nil {
		return "", err
	}
	return filepath.Join(r, rest), nil
}

// within reports whether p is dir or inside it (both absolute and resolved).
func within(p, dir string) bool {
	if p == dir {
		return true
	}
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkPlace refuses outputs whose replacement would destroy something else: the filesystem root and the
// current directory (or any directory containing it) are replaced as a whole by a successful run.
func checkPlace(display, real string) error {
	if filepath.Dir(real) == real {
		return exitcode.Errorf(exitcode.Output, "refusing --out %s: it is the filesystem root, and a run replaces its output directory as a whole; choose a directory of its own, such as out/", display)
	}
	if wd, err := os.Getwd(); err == nil {
		if wd, err = filepath.EvalSymlinks(wd); err == nil && within(wd, real) {
			return exitcode.Errorf(exitcode.Output, "refusing --out %s: it is the current directory or contains it, and a run replaces its output directory as a whole; choose a subdirectory, such as out/", display)
		}
	}
	return nil
}

// CheckInputs refuses an OUT that is, or contains, one of the paths the run reads (inputs, tokenizer):
// replacing OUT would delete them. A glob stands for the directory before its first pattern character.
func (d *Dir) CheckInputs(paths []string) error {
	for _, p := range paths {
		if p == "" || strings.Contains(p, "://") {
			continue // hf:// references are checked once resolved to files
		}
		dir := p
		for strings.ContainsAny(dir, "*?[") {
			dir = filepath.Dir(dir)
		}
		r, err := resolve(dir)
		if err != nil {
			continue // the input's own error is reported where it is opened
		}
		if within(r, d.real) {
			return exitcode.Errorf(exitcode.Output, "refusing --out %s: it contains the input %s, which replacing the output directory would delete; choose another --out", d.Out, p)
		}
	}
	return nil
}

// checkOut decides whether OUT may be replaced: absent, an empty directory, or (with --overwrite) a
// directory holding nothing but an orcaprep output.
func (d *Dir) checkOut() error {
	st, err := os.Lstat(d.real)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return exitcode.Errorf(exitcode.Output, "output %s: %w", d.Out, err)
	}
	if !st.IsDir() {
		return exitcode.Errorf(exitcode.Output, "output %s exists and is not a directory", d.Out)
	}
	ents, err := os.ReadDir(d.real)
	if err != nil {
		return exitcode.Errorf(exitcode.Output, "output %s: %w", d.Out, err)
	}
	if len(ents) == 0 {
		return nil
	}
	rel, ours, err := Foreign(d.real)
	if err != nil {
		return exitcode.Errorf(exitcode.Output, "output %s: %w", d.Out, err)
	}
	switch {
	case !ours:
		if !d.overwrite {
			return exitcode.Errorf(exitcode.Output, "output directory %s is not empty and was not written by orcaprep (it holds %s); choose another --out (--overwrite replaces only an orcaprep output or an empty directory)", d.Out, rel)
		}
		return exitcode.Errorf(exitcode.Output, "refusing to replace %s: it was not written by orcaprep (no orcaprep manifest.json) and holds %s; --overwrite replaces only an orcaprep output or an empty directory", d.Out, rel)
	case rel != "":
		return exitcode.Errorf(exitcode.Output, "refusing to replace %s: %s is not part of the orcaprep output its manifest.json describes; move it out of the directory first", d.Out, rel)
	case !d.overwrite:
		return exitcode.Errorf(exitcode.Output, "output directory %s holds an earlier orcaprep output; pass --overwrite to replace it", d.Out)
	}
	return nil
}

// Foreign looks at an existing, non-empty directory. ours reports that its manifest.json was written by
// orcaprep; rel is the first file (in lexical order, slash-separated, relative to dir) that orcaprep did not
// write — for an orcaprep output, a file neither in its manifest (any "path" value) nor one of the fixed
// top-level files. rel is "" when every file belongs to the output. Empty directories are not files.
func Foreign(dir string) (rel string, ours bool, err error) {
	owned := map[string]bool{}
	if b, err := os.ReadFile(filepath.Join(dir, manifestName)); err == nil {
		var m map[string]any
		if json.Unmarshal(b, &m) == nil && m["tool"] == "orcaprep" {
			ours = true
			for _, n := range fixedNames {
				owned[n] = true
			}
			collectPaths(m, owned)
		}
	}
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		r, _ := filepath.Rel(dir, p)
		r = filepath.ToSlash(r)
		if !owned[r] {
			rel = r
			return fs.SkipAll
		}
		return nil
	})
	return rel, ours, err
}

// collectPaths adds every string under a "path" key, at any depth, to owned: the manifest lists each file
// it wrote that way (shards, rejected, index, and whatever later versions add).
func collectPaths(v any, owned map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "path" {
				owned[filepath.ToSlash(filepath.Clean(s))] = true
				continue
			}
			collectPaths(e, owned)
		}
	case []any:
		for _, e := range x {
			collectPaths(e, owned)
		}
	}
}

// reclaim removes what killed runs left beside OUT — staging directories, a previous output being deleted —
// and restores a previous output that an interrupted fallback commit left under .OUT.orcaprep-old while OUT
// was missing. It runs under the lock, so no live run owns any of it.
func (d *Dir) reclaim() error {
	ents, err := os.ReadDir(d.parent)
	if err != nil {
		return exitcode.Errorf(exitcode.Output, "read %s: %w", d.parent, err)
	}
	_, statErr := os.Lstat(d.real)
	outMissing := errors.Is(statErr, fs.ErrNotExist)
	tmpPrefix := stagingPrefix + d.base + stagingInfix
	oldName := stagingPrefix + d.base + oldSuffix
	// First, a previous output to put back. Versions before the lock kept it in .OUT.orcaprep-tmp-*.old.
	if outMissing {
		for _, e := range ents {
			n := e.Name()
			if n != oldName && !(strings.HasPrefix(n, tmpPrefix) && strings.HasSuffix(n, ".old")) {
				continue
			}
			p := filepath.Join(d.parent, n)
			if _, err := os.Stat(filepath.Join(p, manifestName)); err != nil {
				continue // not a complete output
			}
			if err := os.Rename(p, d.real); err != nil {
				return exitcode.Errorf(exitcode.Output, "restore the previous output of %s from %s: %w", d.Out, p, err)
			}
			d.notice("orcaprep: restored %s from %s, where an interrupted commit had left the previous output\n", d.Out, n)
			break
		}
	}
	var freed int64
	var names []string
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, tmpPrefix) && n != oldName {
			continue
		}
		p := filepath.Join(d.parent, n)
		if _, err := os.Lstat(p); err != nil {
			continue // restored above
		}
		size := diskUsage(p)
		if err := os.RemoveAll(p); err != nil {
			return exitcode.Errorf(exitcode.Output, "remove %s, left by an interrupted run: %w", p, err)
		}
		freed += size
		names = append(names, n)
	}
	if len(names) > 0 {
		d.notice("orcaprep: removed %s left beside %s by interrupted runs (%s)\n", humanBytes(freed), d.Out, strings.Join(names, ", "))
	}
	return nil
}

func (d *Dir) notice(format string, args ...any) {
	if d.stderr != nil {
		fmt.Fprintf(d.stderr, format, args...)
	}
}

// diskUsage is the total size of the regular files under p.
func diskUsage(p string) int64 {
	var n int64
	filepath.WalkDir(p, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if info, err := e.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func humanBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Commit makes the staging directory OUT. On Linux the swap is one renameat2(RENAME_EXCHANGE): at every
// instant OUT is the complete previous output or the complete new one. Elsewhere (or on a filesystem
// without it) OUT is moved to .OUT.orcaprep-old, the staging directory to OUT, and the old one away: a
// process killed between the two renames leaves OUT missing and the previous output complete in
// .OUT.orcaprep-old, which the next run on OUT puts back before anything else. Files are fsynced first,
// so the swap never exposes data still in flight to the disk. ctx is checked up to the swap; after it the
// run is done.
func (d *Dir) Commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := syncTree(d.Staging); err != nil {
		return exitcode.Errorf(exitcode.Output, "flush output to disk: %w", err)
	}
	// The lock keeps other orcaprep runs out of OUT, not the user: look again before replacing it.
	if err := d.checkOut(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	old, err := d.swap()
	if err != nil {
		return exitcode.Errorf(exitcode.Output, "move output into %s: %w", d.Out, err)
	}
	d.committed = true
	syncDir(d.parent)
	if d.afterSwap != nil {
		d.afterSwap()
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			d.notice("orcaprep: could not remove the previous output (%v); the next run on %s removes it\n", err, d.Out)
		}
	}
	return nil
}

// swap puts the staging directory at OUT and returns where the previous output now is ("" if none).
func (d *Dir) swap() (old string, err error) {
	if _, err := os.Lstat(d.real); errors.Is(err, fs.ErrNotExist) {
		ok, err := renameNoReplace(d.Staging, d.real)
		if !ok {
			err = os.Rename(d.Staging, d.real)
		}
		return "", err
	}
	ok, err := exchange(d.Staging, d.real)
	if ok {
		return d.Staging, err // the staging name now holds the previous output, which reclaim would also remove
	}
	oldPath := d.sibling(oldSuffix)
	if err := os.Rename(d.real, oldPath); err != nil {
		return "", err
	}
	if err := os.Rename(d.Staging, d.real); err != nil {
		if rerr := os.Rename(oldPath, d.real); rerr != nil {
			return "", fmt.Errorf("%w (and putting the previous output back failed: %v; it is in %s)", err, rerr, oldPath)
		}
		return "", err
	}
	// Give the previous output a staging name before deleting it, so that a kill during the deletion
	// leaves debris the next run removes, never a partial .old it would restore.
	if err := os.Rename(oldPath, d.Staging); err != nil {
		return oldPath, nil
	}
	return d.Staging, nil
}

// syncTree fsyncs every file and directory under dir.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && !e.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}

func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// Close removes the staging directory unless Commit succeeded, and releases the lock.
func (d *Dir) Close() {
	if d == nil {
		return
	}
	if !d.committed && d.Staging != "" {
		os.RemoveAll(d.Staging)
	}
	d.lock.release()
}

// ---- the lock

type lock struct {
	path string
	f    *os.File
}

// holder is what a lock file records about the run holding it.
type holder struct {
	PID     int    `json:"pid"`
	Host    string `json:"host"`
	Started string `json:"started"`
}

func (h holder) String() string {
	if h.PID == 0 {
		return "a run that has not recorded itself yet"
	}
	return fmt.Sprintf("pid %d on %s, started %s", h.PID, h.Host, h.Started)
}

// acquire takes the lock on OUT or fails at once. The kernel's flock decides who holds it, and releases it
// when the holder dies, however it dies; the pid/host record names the holder in the error, and decides
// alone on filesystems without flock (a record of a dead process on this host is stale and taken over).
func acquire(path, out string, stderr io.Writer) (*lock, error) {
	host, _ := os.Hostname()
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, exitcode.Errorf(exitcode.Output, "lock %s: %w", path, err)
		}
		busy, unsupported, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, exitcode.Errorf(exitcode.Output, "lock %s: %w", path, err)
		}
		prev := readHolder(f)
		if !busy && unsupported && prev.PID != 0 && (prev.Host != host || alive(prev.PID)) {
			busy = true
		}
		if busy {
			// The holder records itself just after it locks: give it a moment, so that the message names it.
			for i := 0; i < 50 && prev.PID == 0; i++ {
				time.Sleep(10 * time.Millisecond)
				prev = readHolder(f)
			}
			f.Close()
			return nil, exitcode.Errorf(exitcode.Output, "output %s is in use by another orcaprep run (%s); wait for it to finish, or, if that process is gone, remove %s", out, prev, path)
		}
		// A holder that just finished removes the file after releasing it: make sure the file locked is
		// the one at the path, or another run could lock a new file there at the same time.
		if st1, err1 := f.Stat(); err1 != nil || !sameFile(st1, path) {
			f.Close()
			if attempt < 100 {
				continue
			}
			return nil, exitcode.Errorf(exitcode.Output, "lock %s: the file keeps being replaced", path)
		}
		if prev.PID != 0 && stderr != nil {
			fmt.Fprintf(stderr, "orcaprep: taking over the lock of %s, which is no longer running\n", prev)
		}
		me := holder{PID: os.Getpid(), Host: host, Started: time.Now().UTC().Format(time.RFC3339)}
		b, _ := json.Marshal(me)
		if err := f.Truncate(0); err == nil {
			_, err = f.WriteAt(append(b, '\n'), 0)
		}
		return &lock{path: path, f: f}, nil
	}
}

func sameFile(st os.FileInfo, path string) bool {
	st2, err := os.Stat(path)
	return err == nil && os.SameFile(st, st2)
}

func readHolder(f *os.File) holder {
	var h holder
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	if err == nil {
		json.Unmarshal(b, &h)
	}
	return h
}

// release removes the lock file, then unlocks it (closing drops the flock): removing first means a run
// that opened the old file and locks it next sees that it is no longer at the path, and retries.
func (l *lock) release() {
	if l == nil || l.f == nil {
		return
	}
	if st, err := l.f.Stat(); err == nil && sameFile(st, l.path) {
		os.Remove(l.path)
	}
	l.f.Close()
	l.f = nil
}
