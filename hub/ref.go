package hub

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/orcaprep/orcaprep/exitcode"
)

// Repo types, as huggingface_hub names them.
const (
	TypeModel   = "model"
	TypeDataset = "dataset"
	TypeSpace   = "space"
)

// DefaultRevision is the branch used when none is given.
const DefaultRevision = "main"

// Ref names one file (or, with an empty Path, a whole repo) on the Hub.
type Ref struct {
	RepoType string // TypeModel, TypeDataset or TypeSpace
	RepoID   string // "Open-Orca/OpenOrca"
	Revision string // branch, tag or commit; DefaultRevision when the ref gave none
	Path     string // path inside the repo, "/"-separated; may be empty
}

// String renders r as an hf:// reference that ParseRef reads back.
func (r Ref) String() string {
	var b strings.Builder
	b.WriteString("hf://")
	b.WriteString(urlPrefix(r.RepoType))
	b.WriteString(r.RepoID)
	if r.Revision != "" && r.Revision != DefaultRevision {
		b.WriteString("@")
		if specialRefRE.MatchString(r.Revision) {
			b.WriteString(r.Revision)
		} else {
			b.WriteString(url.PathEscape(r.Revision))
		}
	}
	if r.Path != "" {
		b.WriteString("/")
		b.WriteString(r.Path)
	}
	return b.String()
}

// IsRef reports whether s is a Hub reference ("hf://…") rather than a local path.
func IsRef(s string) bool { return strings.HasPrefix(s, "hf://") }

// specialRefRE matches the revisions that contain "/" yet may appear unquoted after "@", as in
// huggingface_hub's HfFileSystem (SPECIAL_REFS_REVISION_REGEX).
var specialRefRE = regexp.MustCompile(`^(refs/convert/\w+|refs/pr/\d+)`)

// repoPartRE is what the Hub accepts in a namespace or repo name.
var repoPartRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ParseRef parses hf://datasets/Open-Orca/OpenOrca@REV/path/file, hf://spaces/ORG/NAME/… and
// hf://ORG/MODEL/path (a model) the way huggingface_hub's fsspec paths read. The revision goes after the
// repo name and may be URL-quoted ("refs%2Fpr%2F1") or one of the special refs (refs/pr/N, refs/convert/X).
// Repo ids must have the ORG/NAME form: unlike HfFileSystem, which asks the Hub whether "gpt2/config.json"
// is a repo, orcaprep parses without network access.
func ParseRef(s string) (Ref, error) {
	bad := func(why string) (Ref, error) {
		return Ref{}, exitcode.Errorf(exitcode.Usage, "bad Hub reference %q: %s (want hf://datasets/ORG/NAME[@REVISION]/PATH or hf://ORG/MODEL[@REVISION]/PATH)", s, why)
	}
	if !IsRef(s) {
		return bad("missing hf:// prefix")
	}
	rest := strings.TrimPrefix(s, "hf://")
	r := Ref{RepoType: TypeModel, Revision: DefaultRevision}
	switch {
	case strings.HasPrefix(rest, "datasets/"):
		r.RepoType, rest = TypeDataset, strings.TrimPrefix(rest, "datasets/")
	case strings.HasPrefix(rest, "spaces/"):
		r.RepoType, rest = TypeSpace, strings.TrimPrefix(rest, "spaces/")
	}
	ns, rest, ok := strings.Cut(rest, "/")
	if !ok || ns == "" {
		return bad("no ORG/NAME repo id")
	}
	name, rest, _ := strings.Cut(rest, "/")
	if at := strings.IndexByte(name, '@'); at >= 0 {
		rev := name[at+1:]
		name = name[:at]
		if m := specialRefRE.FindString(rev + "/" + rest); rev == "refs" && m != "" {
			// An unquoted special ref: its "/" belong to the revision, not the path.
			rest = strings.TrimPrefix(strings.TrimPrefix(rev+"/"+rest, m), "/")
			rev = m
		} else {
			u, err := url.PathUnescape(rev)
			if err != nil {
				return bad("revision is not valid URL quoting")
			}
			rev = u
		}
		if rev == "" {
			return bad("empty revision after @")
		}
		r.Revision = rev
	}
	if !repoPartRE.MatchString(ns) || !repoPartRE.MatchString(name) {
		return bad("repo id must be ORG/NAME with letters, digits, '.', '_' or '-'")
	}
	r.RepoID = ns + "/" + name
	r.Path = strings.TrimSuffix(rest, "/")
	if err := validateRevision(r.Revision); err != nil {
		return bad(err.Error())
	}
	if r.Path != "" {
		if err := validateRepoPath(r.Path); err != nil {
			return bad(err.Error())
		}
	}
	return r, nil
}

// validateRepoPath rejects paths that could escape the snapshot or local directory once joined to it:
// a server-supplied listing is untrusted input.
func validateRepoPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty path in repo")
	}
	if strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
		return fmt.Errorf("path %q in repo is not a clean relative path", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("path %q in repo is not a clean relative path", p)
		}
	}
	return nil
}

// validateRevision rejects revisions that cannot name a file under refs/ safely.
func validateRevision(rev string) error {
	if rev == "" {
		return fmt.Errorf("empty revision")
	}
	if err := validateRepoPath(rev); err != nil {
		return fmt.Errorf("revision %q is not valid", rev)
	}
	return nil
}

// validateRepoType checks a --repo-type value.
func validateRepoType(t string) error {
	switch t {
	case TypeModel, TypeDataset, TypeSpace:
		return nil
	}
	return exitcode.Errorf(exitcode.Usage, "unknown repo type %q (want dataset, model or space)", t)
}

// urlPrefix is the path prefix of a repo type in resolve URLs (REPO_TYPES_URL_PREFIXES).
func urlPrefix(repoType string) string {
	switch repoType {
	case TypeDataset:
		return "datasets/"
	case TypeSpace:
		return "spaces/"
	}
	return ""
}

// repoFolderName is the cache folder of a repo: "datasets--Open-Orca--OpenOrca" (repo_folder_name).
func repoFolderName(repoType, repoID string) string {
	return repoType + "s--" + strings.ReplaceAll(repoID, "/", "--")
}

// escapePath URL-escapes each segment of a repo path, keeping the "/" separators (quote(filename)).
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// isCommitHash reports whether rev is a full 40-hex commit sha (REGEX_COMMIT_HASH).
func isCommitHash(rev string) bool {
	if len(rev) != 40 {
		return false
	}
	for _, c := range rev {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
