package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/progress"
)

// copyBufSize is the read size for bodies: large enough that syscalls and hashing calls stay cheap.
const copyBufSize = 1 << 20

// verifier says how a downloaded file is checked beyond its size.
type verifier int

const (
	verifySize    verifier = iota // etag is opaque (a mirror's own): size only
	verifySHA256                  // LFS file: etag is the content's sha256
	verifyGitSHA1                 // regular git file: etag is the git blob sha1 of "blob <size>\0" + content
)

func verifierFor(m fileMeta) verifier {
	switch {
	case m.LFS && isHex(m.ETag, 64):
		return verifySHA256
	case !m.LFS && isHex(m.ETag, 40):
		return verifyGitSHA1
	}
	return verifySize
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

func (v verifier) newHash(size int64) hash.Hash {
	switch v {
	case verifySHA256:
		return sha256.New()
	case verifyGitSHA1:
		h := sha1.New()
		fmt.Fprintf(h, "blob %d\x00", size)
		return h
	}
	return nil
}

func (v verifier) String() string {
	switch v {
	case verifySHA256:
		return "sha256"
	case verifyGitSHA1:
		return "git blob sha1"
	}
	return "size"
}

var errStalled = errors.New("no data received within the stall timeout")

// fetch downloads the file described by m from u into incomplete, resuming from whatever bytes are
// already there, verifies size and hash, and renames it to final. On a hash or size mismatch the
// bad bytes are deleted and an Integrity error returned; final never holds unverified content.
func (c *client) fetch(ctx context.Context, label, u string, m fileMeta, incomplete, final string, bar *progress.Bar) error {
	v := verifierFor(m)
	var (
		h      hash.Hash // hashes bytes [0, hashed) of incomplete
		hashed int64     = -1
		high   int64     // most bytes ever on disk: growth past it counts as progress
		first  = true
	)
	what := "downloading " + label
	err := c.retry(ctx, func(ctx context.Context) (bool, error) {
		f, err := os.OpenFile(incomplete, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return false, exitcode.Errorf(exitcode.Output, "%s: %v", what, err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return false, exitcode.Errorf(exitcode.Output, "%s: %v", what, err)
		}
		have := fi.Size()
		if have > m.Size {
			// Longer than the file can be: not a prefix of it. Start over.
			if err := f.Truncate(0); err != nil {
				return false, exitcode.Errorf(exitcode.Output, "%s: %v", what, err)
			}
			have = 0
		}
		if first {
			bar.Add(have)
			first = false
			high = have
		}
		if v != verifySize && hashed != have {
			// Resuming (maybe after a kill): hash the prefix already on disk so the final check covers
			// every byte, not just the ones this process received.
			h, hashed = v.newHash(m.Size), 0
			n, err := io.Copy(h, io.NewSectionReader(f, 0, have))
			if err != nil {
				return false, exitcode.Errorf(exitcode.Output, "%s: hashing the partial download %s: %v", what, incomplete, err)
			}
			hashed = n
		}
		if have < m.Size {
			grew, err := c.fetchBody(ctx, what, u, m, f, &have, h, &hashed, bar)
			if have > high {
				high = have
				grew = true
			}
			if err != nil {
				return grew, err
			}
		}
		if err := f.Sync(); err != nil {
			return false, exitcode.Errorf(exitcode.Output, "%s: %v", what, err)
		}
		return false, nil
	})
	if err != nil {
		if exitcode.Code(err) == exitcode.Integrity {
			os.Remove(incomplete)
		}
		return err
	}
	fi, err := os.Stat(incomplete)
	if err != nil {
		return exitcode.Errorf(exitcode.Output, "%s: %v", what, err)
	}
	if fi.Size() != m.Size {
		os.Remove(incomplete)
		return exitcode.Errorf(exitcode.Integrity, "%s: size mismatch: got %d bytes, the Hub says %d; the partial file was deleted", what, fi.Size(), m.Size)
	}
	if v != verifySize {
		if got := hex.EncodeToString(h.Sum(nil)); got != m.ETag {
			os.Remove(incomplete)
			return exitcode.Errorf(exitcode.Integrity, "%s: %s mismatch: expected %s, got %s; the downloaded bytes were deleted (run again to re-download; if it repeats, a proxy or mirror is corrupting the file)", what, v, m.ETag, got)
		}
	}
	if err := os.Rename(incomplete, final); err != nil {
		return exitcode.Errorf(exitcode.Output, "%s: %v", what, err)
	}
	return nil
}

// fetchBody runs one GET from *have onwards and appends what arrives to f, advancing *have, the hash
// and *hashed together. It returns a retryable error for anything the next attempt may fix.
func (c *client) fetchBody(ctx context.Context, what, u string, m fileMeta, f *os.File, have *int64, h hash.Hash, hashed *int64, bar *progress.Bar) (bool, error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := c.o.StallTimeout
	timer := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer timer.Stop()

	req, err := c.newRequest(actx, http.MethodGet, u)
	if err != nil {
		return false, err
	}
	if *have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", *have))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return false, bodyError(ctx, actx, what, err)
	}
	defer resp.Body.Close()
	restart := func() error {
		if err := f.Truncate(0); err != nil {
			return exitcode.Errorf(exitcode.Output, "%s: %v", what, err)
		}
		*have = 0
		if h != nil {
			h.Reset()
			if vh := verifierFor(m); vh == verifyGitSHA1 {
				fmt.Fprintf(h, "blob %d\x00", m.Size)
			}
			*hashed = 0
		}
		return nil
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if *have > 0 {
			// The server ignored Range: take the whole body from the start.
			if err := restart(); err != nil {
				return false, err
			}
		}
	case http.StatusPartialContent:
		if start, ok := contentRangeStart(resp.Header.Get("Content-Range")); !ok || start != *have {
			if err := restart(); err != nil {
				return false, err
			}
			return false, retryable(fmt.Errorf("%s: server answered Range bytes=%d- with Content-Range %q", what, *have, resp.Header.Get("Content-Range")))
		}
	case http.StatusRequestedRangeNotSatisfiable:
		if err := restart(); err != nil {
			return false, err
		}
		return false, retryable(fmt.Errorf("%s: server refused to resume at byte %d", what, *have))
	case http.StatusUnauthorized, http.StatusForbidden:
		if !c.onEndpoint(resp.Request.URL) {
			// The CDN refused a signed URL (expired, or clock skew): the Hub itself already let us in,
			// so ask it again for a fresh redirect rather than blaming the token.
			return false, retryable(fmt.Errorf("%s: download host %s refused the signed URL (HTTP %d)", what, resp.Request.URL.Host, resp.StatusCode))
		}
		return false, statusError(resp, what)
	default:
		return false, statusError(resp, what)
	}
	if _, err := f.Seek(*have, io.SeekStart); err != nil {
		return false, exitcode.Errorf(exitcode.Output, "%s: %v", what, err)
	}
	buf := make([]byte, copyBufSize)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			timer.Reset(stall)
			if *have+int64(n) > m.Size {
				return false, exitcode.Errorf(exitcode.Integrity, "%s: the server sent more than the %d bytes the Hub announced", what, m.Size)
			}
			w, werr := f.Write(buf[:n])
			if h != nil {
				h.Write(buf[:w])
				*hashed += int64(w)
			}
			*have += int64(w)
			bar.Add(int64(w))
			if werr != nil {
				return false, exitcode.Errorf(exitcode.Output, "%s: writing %s: %v", what, f.Name(), werr)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return false, bodyError(ctx, actx, what, rerr)
		}
	}
	if *have < m.Size {
		return false, retryable(fmt.Errorf("%s: connection closed after %d of %d bytes", what, *have, m.Size))
	}
	return false, nil
}

// bodyError classifies a failure of a GET in flight, telling a stall (retry) from the caller's cancel.
func bodyError(ctx, actx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(context.Cause(actx), errStalled) {
		return retryable(fmt.Errorf("%s: %w", what, errStalled))
	}
	return retryable(fmt.Errorf("%s: %w", what, err))
}

// contentRangeStart parses the first byte offset of "bytes START-END/TOTAL".
func contentRangeStart(v string) (int64, bool) {
	v, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !ok {
		return 0, false
	}
	s, _, ok := strings.Cut(v, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil
}
