package hub

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
)

// retryableError marks a failure worth retrying: a connection error, a reset or short body, a 5xx or a 429.
type retryableError struct {
	err   error
	after time.Duration // the server's Retry-After, 0 when absent
}

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

func retryable(err error) error { return &retryableError{err: err} }

// statusError turns a non-success HTTP response into an error: retryable for 408, 429 and 5xx, and a
// Network exit code with advice for the refusals a user can fix (401/403/404).
func statusError(resp *http.Response, what string) error {
	code := resp.StatusCode
	errCode := resp.Header.Get("X-Error-Code")
	serverMsg := strings.TrimSpace(resp.Header.Get("X-Error-Message"))
	detail := fmt.Sprintf("HTTP %d", code)
	if serverMsg != "" {
		detail += ": " + serverMsg
	}
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		return &retryableError{err: fmt.Errorf("%s: %s", what, detail), after: retryAfter(resp.Header.Get("Retry-After"))}
	case errCode == "RepoNotFound":
		return exitcode.Errorf(exitcode.Network, "%s: repository not found (%s): check the repo name and --repo-type; if it is private or gated, set HF_TOKEN", what, detail)
	case errCode == "GatedRepo" || code == http.StatusUnauthorized || code == http.StatusForbidden:
		return exitcode.Errorf(exitcode.Network, "%s: access denied (%s): the repo may be gated or private; accept the terms on the Hub and set HF_TOKEN (or --token) to a token that has access", what, detail)
	case code == http.StatusNotFound:
		return exitcode.Errorf(exitcode.Network, "%s: not found (%s): check the repo name/revision/path and --repo-type", what, detail)
	}
	return exitcode.Errorf(exitcode.Network, "%s: unexpected %s", what, detail)
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date. Unparseable means 0.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// redactedError hides a secret inside an error message while keeping the chain (and exit code) intact.
type redactedError struct {
	err    error
	secret string
}

func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.secret, "[REDACTED]")
}
func (e *redactedError) Unwrap() error { return e.err }

// redact makes sure the token never reaches a message: errors from net/http quote URLs, and a user may
// have put the token into HF_ENDPOINT or a mirror may echo it back.
func redact(err error, token string) error {
	if err == nil || token == "" {
		return err
	}
	var r *redactedError
	if errors.As(err, &r) && r.secret == token {
		return err
	}
	return &redactedError{err: err, secret: token}
}
