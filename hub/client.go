package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/progress"
)

// userAgent identifies orcaprep to the Hub, which logs library names in its stats.
const userAgent = "orcaprep-hub/1"

// client performs Hub requests for one Options value.
type client struct {
	o        Options
	endpoint *url.URL
	hc       *http.Client
}

func newClient(o Options) (*client, error) {
	o = o.withDefaults()
	ep, err := url.Parse(o.Endpoint)
	if err != nil || ep.Host == "" || (ep.Scheme != "http" && ep.Scheme != "https") {
		return nil, exitcode.Errorf(exitcode.Usage, "bad Hub endpoint %q (HF_ENDPOINT): want http(s)://host[:port]", redactString(o.Endpoint, o.Token))
	}
	if _, isFile := o.Stderr.(*os.File); o.Stderr != nil && !isFile {
		// Parallel downloads share Stderr; an *os.File is safe (and must stay one for the terminal
		// check in progress), anything else gets serialised.
		o.Stderr = &lockedWriter{w: o.Stderr}
	}
	c := &client{o: o, endpoint: ep}
	hc := *o.HTTPClient
	hc.CheckRedirect = c.checkRedirect
	c.hc = &hc
	return c, nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func redactString(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[REDACTED]")
}

// onEndpoint reports whether u is served by the endpoint itself (same scheme, host and port): only then
// may the token go with it. Go's own redirect rule compares host names without ports, so it would hand
// the token to another server on the same host; hence this stricter check.
func (c *client) onEndpoint(u *url.URL) bool {
	return u.Scheme == c.endpoint.Scheme && strings.EqualFold(u.Host, c.endpoint.Host)
}

// checkRedirect strips the token on any hop that leaves the endpoint, and makes HEAD follow only
// relative redirects (a renamed repo) so that metadata comes from the Hub, not from the CDN.
func (c *client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if !c.onEndpoint(req.URL) {
		req.Header.Del("Authorization")
	}
	if req.Method == http.MethodHead && req.Response != nil {
		loc, err := url.Parse(req.Response.Header.Get("Location"))
		if err != nil || loc.Host != "" || loc.Scheme != "" {
			return http.ErrUseLastResponse
		}
	}
	return nil
}

// newRequest builds a request with the Hub headers; Authorization only for the endpoint itself.
func (c *client) newRequest(ctx context.Context, method, rawURL string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", userAgent)
	// identity: sizes and Range offsets must refer to the stored bytes, never to a gzip stream.
	req.Header.Set("Accept-Encoding", "identity")
	if c.o.Token != "" && c.onEndpoint(req.URL) {
		req.Header.Set("Authorization", "Bearer "+c.o.Token)
	}
	return req, nil
}

// attemptFunc runs one attempt. grew reports that it added bytes beyond any earlier attempt, which
// resets the failure count: a transfer that keeps advancing is not failing.
type attemptFunc func(ctx context.Context) (grew bool, err error)

// retry runs fn until it succeeds, fails permanently, or MaxAttempts consecutive attempts fail
// without progress. Waits grow exponentially with jitter and honour Retry-After, capped by RetryMaxWait.
func (c *client) retry(ctx context.Context, fn attemptFunc) error {
	failures := 0
	for {
		grew, err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var re *retryableError
		if !errors.As(err, &re) {
			return err
		}
		if grew {
			failures = 0
		}
		failures++
		if failures >= c.o.MaxAttempts {
			// re.err already names the request.
			return exitcode.With(exitcode.Network, fmt.Errorf("giving up after %d failed attempts: %w", failures, re.err))
		}
		wait := c.backoff(failures, re.after)
		if c.o.Stderr != nil && c.o.Progress != progress.Never {
			fmt.Fprintf(c.o.Stderr, "orcaprep: %v; retrying in %s (attempt %d of %d)\n",
				redactString(re.err.Error(), c.o.Token), wait.Round(time.Millisecond), failures+1, c.o.MaxAttempts)
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return err
		}
	}
}

// backoff returns the wait before attempt failures+1: RetryBase·2^(failures-1) with "equal jitter"
// (half fixed, half random, so parallel workers spread out but never retry at once), or the server's
// Retry-After when it gave one. Both are capped by RetryMaxWait.
func (c *client) backoff(failures int, after time.Duration) time.Duration {
	max := c.o.RetryMaxWait
	if after > 0 {
		return min(after, max)
	}
	d := c.o.RetryBase
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// transportError classifies an error from hc.Do or a body read: cancellation by the caller is final, and so
// is a failed name lookup (offline, or no DNS: retrying it only made the user wait 12–14 s for the same
// answer); everything else (refused, reset, timeout, EOF) is worth another attempt.
func transportError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return exitcode.Errorf(exitcode.Network, "%s: cannot resolve the host name %s: no network? With HF_HUB_OFFLINE=1 orcaprep uses the files already in the Hugging Face cache (fetch them beforehand with `orcaprep pull`); HF_ENDPOINT selects a reachable mirror", what, dns.Name)
	}
	return retryable(fmt.Errorf("%s: %w", what, err))
}
