package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/orcaprep/orcaprep/exitcode"
)

// fileMeta is what a HEAD on a resolve URL tells about a file (HfFileMetadata).
type fileMeta struct {
	Commit string // X-Repo-Commit
	ETag   string // X-Linked-Etag (LFS: the content's sha256) else ETag (git blob sha1)
	Size   int64  // X-Linked-Size else Content-Length
	LFS    bool   // the etag came from X-Linked-Etag
}

// resolveURL is {endpoint}/{prefix}{repo}/resolve/{revision}/{path}.
func (c *client) resolveURL(repoType, repoID, revision, path string) string {
	return c.o.Endpoint + "/" + urlPrefix(repoType) + repoID + "/resolve/" + url.PathEscape(revision) + "/" + escapePath(path)
}

// apiURL is {endpoint}/api/{types}/{repo}/{rest}.
func (c *client) apiURL(repoType, repoID, rest string) string {
	return c.o.Endpoint + "/api/" + repoType + "s/" + repoID + "/" + rest
}

// etagRE keeps etags usable as file names under blobs/.
var etagRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// normalizeETag strips a weak-validator prefix and quotes (_normalize_etag).
func normalizeETag(e string) string {
	e = strings.TrimSpace(e)
	e = strings.TrimPrefix(e, "W/")
	return strings.Trim(e, `"`)
}

// head fetches a file's metadata, retrying transient failures.
func (c *client) head(ctx context.Context, r Ref) (fileMeta, error) {
	var m fileMeta
	u := c.resolveURL(r.RepoType, r.RepoID, r.Revision, r.Path)
	what := "HEAD " + r.String()
	err := c.retry(ctx, func(ctx context.Context) (bool, error) {
		req, err := c.newRequest(ctx, http.MethodHead, u)
		if err != nil {
			return false, err
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return false, transportError(ctx, what, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			return false, statusError(resp, what)
		}
		m, err = parseFileMeta(resp.Header)
		if err != nil {
			return false, exitcode.Errorf(exitcode.Network, "%s: %v (is HF_ENDPOINT a Hugging Face Hub?)", what, err)
		}
		return false, nil
	})
	return m, err
}

func parseFileMeta(h http.Header) (fileMeta, error) {
	m := fileMeta{Commit: strings.TrimSpace(h.Get("X-Repo-Commit"))}
	if e := h.Get("X-Linked-Etag"); e != "" {
		m.ETag, m.LFS = normalizeETag(e), true
	} else {
		m.ETag = normalizeETag(h.Get("ETag"))
	}
	sz := h.Get("X-Linked-Size")
	if sz == "" {
		sz = h.Get("Content-Length")
	}
	switch {
	case m.Commit == "":
		return m, fmt.Errorf("no X-Repo-Commit header")
	case !etagRE.MatchString(m.Commit):
		return m, fmt.Errorf("bad X-Repo-Commit %q", m.Commit)
	case m.ETag == "":
		return m, fmt.Errorf("no ETag header")
	case !etagRE.MatchString(m.ETag):
		return m, fmt.Errorf("bad ETag %q", m.ETag)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(sz), 10, 64)
	if err != nil || n < 0 {
		return m, fmt.Errorf("no usable size (X-Linked-Size / Content-Length %q)", sz)
	}
	m.Size = n
	return m, nil
}

// getJSON GETs an API URL and decodes its JSON body into v, returning the response headers.
func (c *client) getJSON(ctx context.Context, what, u string, v any) (http.Header, error) {
	var hdr http.Header
	err := c.retry(ctx, func(ctx context.Context) (bool, error) {
		req, err := c.newRequest(ctx, http.MethodGet, u)
		if err != nil {
			return false, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := c.hc.Do(req)
		if err != nil {
			return false, transportError(ctx, what, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, statusError(resp, what)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		if err != nil {
			return false, transportError(ctx, what, err)
		}
		if err := json.Unmarshal(body, v); err != nil {
			return false, exitcode.Errorf(exitcode.Network, "%s: bad JSON from the Hub: %v", what, err)
		}
		hdr = resp.Header
		return false, nil
	})
	return hdr, err
}

// repoCommit asks the Hub which commit a revision points at (repo_info's "sha").
func (c *client) repoCommit(ctx context.Context, repoType, repoID, revision string) (string, error) {
	var info struct {
		SHA string `json:"sha"`
	}
	what := fmt.Sprintf("repo info %s%s@%s", urlPrefix(repoType), repoID, revision)
	if _, err := c.getJSON(ctx, what, c.apiURL(repoType, repoID, "revision/"+url.PathEscape(revision)), &info); err != nil {
		return "", err
	}
	if !etagRE.MatchString(info.SHA) {
		return "", exitcode.Errorf(exitcode.Network, "%s: the Hub returned no commit sha", what)
	}
	return info.SHA, nil
}

// treeEntry is one file of a repo listing (the tree API's RepoFile).
type treeEntry struct {
	Type string `json:"type"` // "file" or "directory"
	OID  string `json:"oid"`  // git blob sha1
	Size int64  `json:"size"`
	Path string `json:"path"`
	LFS  *struct {
		OID  string `json:"oid"` // sha256 of the content
		Size int64  `json:"size"`
	} `json:"lfs,omitempty"`
}

// linkNextRE finds the rel="next" target in a Link header.
var linkNextRE = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="?next"?`)

// listTree lists every file of a repo at a revision, following Link pagination (list_repo_tree).
func (c *client) listTree(ctx context.Context, repoType, repoID, revision string) ([]treeEntry, error) {
	u := c.apiURL(repoType, repoID, "tree/"+url.PathEscape(revision)) + "?recursive=true&expand=false"
	var files []treeEntry
	for page := 1; u != ""; page++ {
		if page > 100000 {
			return nil, exitcode.Errorf(exitcode.Network, "listing %s%s: too many pages", urlPrefix(repoType), repoID)
		}
		var entries []treeEntry
		what := fmt.Sprintf("listing %s%s@%s (page %d)", urlPrefix(repoType), repoID, revision, page)
		hdr, err := c.getJSON(ctx, what, u, &entries)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Type != "file" {
				continue
			}
			if err := validateRepoPath(e.Path); err != nil {
				return nil, exitcode.Errorf(exitcode.Network, "%s: %v", what, err)
			}
			files = append(files, e)
		}
		u = ""
		for _, l := range hdr.Values("Link") {
			if m := linkNextRE.FindStringSubmatch(l); m != nil {
				next, err := url.Parse(m[1])
				if err != nil {
					return nil, exitcode.Errorf(exitcode.Network, "%s: bad Link header", what)
				}
				base, _ := url.Parse(c.o.Endpoint + "/")
				u = base.ResolveReference(next).String()
			}
		}
	}
	return files, nil
}
