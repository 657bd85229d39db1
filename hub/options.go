package hub

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/orcaprep/orcaprep/progress"
)

// DefaultEndpoint is the public Hub, used when neither Options.Endpoint nor $HF_ENDPOINT is set.
const DefaultEndpoint = "https://huggingface.co"

// Defaults for the retry policy. They match the order of magnitude huggingface_hub uses (http_backoff:
// 5 attempts, 1 s base) but allow longer waits because the Hub's 429 windows last minutes.
const (
	DefaultMaxAttempts  = 5
	DefaultRetryBase    = time.Second
	DefaultRetryMaxWait = 60 * time.Second
	DefaultStallTimeout = 60 * time.Second
)

// Options configures every Hub access. The zero value is usable: empty fields take the defaults below
// (OptionsFromEnv fills them from the environment the way huggingface_hub does).
type Options struct {
	// Endpoint is the Hub base URL; default $HF_ENDPOINT or https://huggingface.co.
	Endpoint string
	// Token is sent as "Authorization: Bearer" to the Endpoint host only; default $HF_TOKEN. It is never printed.
	Token string
	// CacheDir is the huggingface_hub cache: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
	CacheDir string
	// Offline forbids all HTTP (HF_HUB_OFFLINE=1): files resolve from the cache or fail.
	Offline bool
	// Progress chooses how per-file progress is shown on Stderr.
	Progress progress.Mode
	// Stderr receives progress and retry notices; nil means silent. Writes within one call are
	// serialised; concurrent calls sharing a writer that is not an *os.File must serialise it themselves.
	Stderr io.Writer
	// MaxAttempts bounds consecutive failed attempts of one request (attempts that add bytes to a
	// download reset the count, so a long transfer over a flaky link keeps going). Default 5.
	MaxAttempts int
	// HTTPClient is used for all requests (its CheckRedirect is replaced). Default: a client with dial
	// and header timeouts and no overall timeout (bodies are gigabytes).
	HTTPClient *http.Client
	// RetryBase is the first backoff delay; later ones double, with jitter. Default 1 s.
	RetryBase time.Duration
	// RetryMaxWait caps any single wait, including a server's Retry-After. Default 60 s.
	RetryMaxWait time.Duration
	// StallTimeout aborts (and retries) a body that delivers no bytes for this long. Default 60 s.
	StallTimeout time.Duration
}

// OptionsFromEnv returns Options filled from the environment variables huggingface_hub reads:
// HF_ENDPOINT, HF_TOKEN (or the token file $HF_TOKEN_PATH / $HF_HOME/token that `huggingface-cli login`
// writes), HF_HUB_CACHE, HF_HOME, HF_HUB_OFFLINE, HF_HUB_DOWNLOAD_TIMEOUT (seconds without data before a
// transfer is retried). ORCAPREP_HUB_RETRY_BASE and ORCAPREP_HUB_RETRY_MAX_WAIT
// (Go durations) tune the retry policy, mainly so tests and mirrors need not wait for real backoff.
func OptionsFromEnv() Options {
	o := Options{
		Endpoint: strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/"),
		Token:    envToken(),
		CacheDir: envCacheDir(),
		Offline:  envTrue(os.Getenv("HF_HUB_OFFLINE")),
		Stderr:   os.Stderr,
	}
	if secs, err := strconv.ParseFloat(os.Getenv("HF_HUB_DOWNLOAD_TIMEOUT"), 64); err == nil && secs > 0 {
		o.StallTimeout = time.Duration(secs * float64(time.Second))
	}
	if d, err := time.ParseDuration(os.Getenv("ORCAPREP_HUB_RETRY_BASE")); err == nil && d > 0 {
		o.RetryBase = d
	}
	if d, err := time.ParseDuration(os.Getenv("ORCAPREP_HUB_RETRY_MAX_WAIT")); err == nil && d > 0 {
		o.RetryMaxWait = d
	}
	return o.withDefaults()
}

// envTrue mirrors huggingface_hub's _is_true.
func envTrue(v string) bool {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

func hfHome() string {
	if h := os.Getenv("HF_HOME"); h != "" {
		return expandHome(h)
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "huggingface")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".cache", "huggingface")
	}
	return filepath.Join(home, ".cache", "huggingface")
}

func envCacheDir() string {
	for _, k := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if v := os.Getenv(k); v != "" {
			return expandHome(v)
		}
	}
	return filepath.Join(hfHome(), "hub")
}

func envToken() string {
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
	}
	p := os.Getenv("HF_TOKEN_PATH")
	if p == "" {
		p = filepath.Join(hfHome(), "token")
	}
	b, err := os.ReadFile(expandHome(p))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// withDefaults fills empty fields; it never reads the token file, so an explicit Options stays explicit.
func (o Options) withDefaults() Options {
	if o.Endpoint == "" {
		o.Endpoint = strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/")
	}
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	o.Endpoint = strings.TrimRight(o.Endpoint, "/")
	if o.CacheDir == "" {
		o.CacheDir = envCacheDir()
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.RetryBase <= 0 {
		o.RetryBase = DefaultRetryBase
	}
	if o.RetryMaxWait <= 0 {
		o.RetryMaxWait = DefaultRetryMaxWait
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = DefaultStallTimeout
	}
	if o.HTTPClient == nil {
		o.HTTPClient = defaultHTTPClient()
	}
	return o
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 60 * time.Second
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: t}
}
