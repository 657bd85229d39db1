package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/progress"
	"golang.org/x/sync/errgroup"
)

// DefaultPullRepo is what `orcaprep pull` fetches when no repo is named.
const DefaultPullRepo = "Open-Orca/OpenOrca"

// DefaultConcurrency bounds parallel file downloads: the Hub answers bursts with 429s
// (huggingface/datasets#7506), and a few streams already fill most links.
const DefaultConcurrency = 4

// PullOptions configures RunPull (`orcaprep pull`).
type PullOptions struct {
	Options
	// Repo is ORG/NAME; default DefaultPullRepo (with RepoType dataset).
	Repo string
	// RepoType is TypeDataset, TypeModel or TypeSpace; default TypeDataset.
	RepoType string
	// Revision is a branch, tag or commit; default "main".
	Revision string
	// Include and Exclude are fnmatch globs on repo paths ("*" crosses "/"); no Include means all files.
	Include, Exclude []string
	// LocalDir, when set, receives plain files (huggingface_hub's local_dir layout) instead of cache snapshots.
	LocalDir string
	// Concurrency bounds parallel downloads; default DefaultConcurrency.
	Concurrency int
}

// RunPull implements `orcaprep pull`: it resolves the revision to a commit, lists the repo's files,
// keeps those matching Include and not Exclude, downloads them (Concurrency at a time) and prints one
// local path per line to stdout, in repo path order, once all are done. Files that fail do not stop the
// others; the first failure is returned with its exit code after the successful paths are printed.
func RunPull(ctx context.Context, o PullOptions, stdout io.Writer) error {
	err := runPull(ctx, &o, stdout)
	return redact(err, o.Token)
}

func runPull(ctx context.Context, o *PullOptions, stdout io.Writer) error {
	if o.Repo == "" {
		o.Repo = DefaultPullRepo
	}
	if o.RepoType == "" {
		o.RepoType = TypeDataset
	}
	if o.Revision == "" {
		o.Revision = DefaultRevision
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if err := validateRepoType(o.RepoType); err != nil {
		return err
	}
	if parts := strings.Split(o.Repo, "/"); len(parts) != 2 || !repoPartRE.MatchString(parts[0]) || !repoPartRE.MatchString(parts[1]) {
		return exitcode.Errorf(exitcode.Usage, "bad repo %q: want ORG/NAME, e.g. %s", o.Repo, DefaultPullRepo)
	}
	if err := validateRevision(o.Revision); err != nil {
		return exitcode.Errorf(exitcode.Usage, "bad --revision: %v", err)
	}
	include, err := newGlobMatcher(o.Include)
	if err != nil {
		return exitcode.Errorf(exitcode.Usage, "bad --include: %v", err)
	}
	exclude, err := newGlobMatcher(o.Exclude)
	if err != nil {
		return exitcode.Errorf(exitcode.Usage, "bad --exclude: %v", err)
	}
	c, err := newClient(o.Options)
	if err != nil {
		return err
	}
	keep := func(p string) bool {
		return (!include.any() || include.match(p)) && !exclude.match(p)
	}

	var commit string
	var paths []string
	switch {
	case c.o.Offline && o.LocalDir != "":
		commit, paths, err = c.offlineLocalListing(o)
	case c.o.Offline:
		commit, paths, err = c.offlineListing(o)
	default:
		commit, err = c.repoCommit(ctx, o.RepoType, o.Repo, o.Revision)
		if err == nil {
			var files []treeEntry
			files, err = c.listTree(ctx, o.RepoType, o.Repo, commit)
			for _, f := range files {
				paths = append(paths, f.Path)
			}
		}
		if err == nil && o.LocalDir == "" {
			rc := newRepoCache(c.o.CacheDir, o.RepoType, o.Repo)
			if werr := rc.writeRef(o.Revision, commit); werr != nil {
				err = exitcode.Errorf(exitcode.Output, "recording %s@%s in %s: %v", o.Repo, o.Revision, rc.dir(), werr)
			}
		}
	}
	if err != nil {
		return err
	}
	var selected []string
	for _, p := range paths {
		if keep(p) {
			selected = append(selected, p)
		}
	}
	sort.Strings(selected)
	if len(selected) == 0 {
		return exitcode.Errorf(exitcode.Usage, "no file of %s%s@%s matches the --include/--exclude patterns", urlPrefix(o.RepoType), o.Repo, o.Revision)
	}

	if len(selected) > 1 && o.Concurrency > 1 && c.o.Progress == progress.Auto {
		// Several live bars would overwrite each other's terminal line; periodic lines stay readable.
		c.o.Progress = progress.Plain
	}
	local := make([]string, len(selected))
	errs := make([]error, len(selected))
	var g errgroup.Group
	g.SetLimit(o.Concurrency)
	rev := commit
	if rev == "" {
		rev = o.Revision // offline --local-dir: each file's own record decides
	}
	for i, p := range selected {
		g.Go(func() error {
			r := Ref{RepoType: o.RepoType, RepoID: o.Repo, Revision: rev, Path: p}
			var err error
			if o.LocalDir != "" {
				local[i], err = c.downloadToLocalDir(ctx, r, o.LocalDir)
			} else {
				local[i], err = c.downloadToCache(ctx, r)
			}
			// Never cancel siblings: one bad file should not throw away the others' progress.
			errs[i] = err
			return nil
		})
	}
	_ = g.Wait()
	for i := range selected {
		if errs[i] == nil {
			if _, err := fmt.Fprintln(stdout, local[i]); err != nil {
				return exitcode.Errorf(exitcode.Output, "writing paths: %v", err)
			}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var firstErr error // in path order, so the report does not depend on timing
	failed := 0
	for _, e := range errs {
		if e != nil {
			if failed == 0 {
				firstErr = e
			}
			failed++
		}
	}
	if firstErr != nil {
		if failed > 1 {
			return exitcode.With(exitcode.Code(firstErr), fmt.Errorf("%d of %d files failed; first: %w", failed, len(selected), firstErr))
		}
		return firstErr
	}
	return nil
}

// offlineLocalListing answers an offline pull into --local-dir from the download records kept there.
// The commit is left empty: each file's own record decides whether it is usable.
func (c *client) offlineLocalListing(o *PullOptions) (string, []string, error) {
	root := filepath.Join(o.LocalDir, ".cache", "huggingface", "download")
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".metadata") {
			return nil
		}
		rel, err := filepath.Rel(root, strings.TrimSuffix(p, ".metadata"))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if _, ok := readLocalMeta(newLocalPaths(o.LocalDir, rel)); ok {
			paths = append(paths, rel)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", nil, exitcode.Errorf(exitcode.Input, "reading %s: %v", root, err)
	}
	if len(paths) == 0 {
		return "", nil, exitcode.Errorf(exitcode.Network, "%s holds no downloaded files of %s and HF_HUB_OFFLINE=1 forbids downloading them", o.LocalDir, o.Repo)
	}
	return "", paths, nil
}

// offlineListing answers a pull from the cache alone (snapshot_download with HF_HUB_OFFLINE=1).
func (c *client) offlineListing(o *PullOptions) (string, []string, error) {
	rc := newRepoCache(c.o.CacheDir, o.RepoType, o.Repo)
	commit := rc.readRef(o.Revision)
	notCached := errors.New("not cached")
	var paths []string
	err := notCached
	if commit != "" {
		paths, err = rc.snapshotFiles(commit)
		if err == nil && len(paths) == 0 {
			err = notCached
		}
	}
	if err != nil {
		return "", nil, exitcode.Errorf(exitcode.Network, "%s%s@%s is not in the cache %s and HF_HUB_OFFLINE=1 forbids downloading it", urlPrefix(o.RepoType), o.Repo, o.Revision, c.o.CacheDir)
	}
	return commit, paths, nil
}
