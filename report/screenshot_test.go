package report

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// findChromium returns Debian's chromium, skipping the test when it is absent unless ORCAPREP_REQUIRE_TOOLS=1
// (CI sets it after scripts/install-chromium.sh, so there a missing browser fails).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ORCAPREP_REQUIRE_TOOLS") == "1" {
		t.Fatal("chromium not found and ORCAPREP_REQUIRE_TOOLS=1: run scripts/install-chromium.sh")
	}
	t.Skip("chromium not installed (scripts/install-chromium.sh); set ORCAPREP_REQUIRE_TOOLS=1 to fail instead")
	return ""
}

const shotWidth = 1100

// chromium runs headless Chromium with the flags that keep it off the network and out of the user's
// profile, and returns its stdout.
func chromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--hide-scrollbars", "--force-device-scale-factor=1", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

type box struct {
	ID         string
	X, Y, W, H float64
}

// probeScript is added to a copy of the page (the report itself has no scripts): it writes the page
// height and the box of every chart's <svg> into the DOM, which --dump-dom then prints.
const probeScript = `<script>
(function () {
  var out = {height: document.documentElement.scrollHeight, charts: []};
  document.querySelectorAll("figure.chart").forEach(function (f) {
    var r = f.querySelector("svg").getBoundingClientRect();
    out.charts.push({ID: f.id, X: r.left + scrollX, Y: r.top + scrollY, W: r.width, H: r.height});
  });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = "PROBE" + JSON.stringify(out) + "EBORP";
  document.body.appendChild(pre);
})();
</script>`

// TestHTMLChartsRenderInChromium opens the report in headless Chromium, screenshots the whole page and
// checks that every chart area holds drawn bars, not just background.
func TestHTMLChartsRenderInChromium(t *testing.T) {
	bin := findChromium(t)
	d, _ := loadFixture(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := WriteFile(page, d, HTML); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(dir, "probe.html")
	if err := os.WriteFile(probe, bytes.Replace(src, []byte("</body>"), []byte(probeScript+"</body>"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := chromium(t, bin, "--window-size=1100,1000", "--dump-dom", "file://"+probe)
	m := regexp.MustCompile(`<pre id="probe">PROBE(.*?)EBORP</pre>`).FindSubmatch(dom)
	if m == nil {
		t.Fatalf("probe output not found in the DOM dump (%d bytes)", len(dom))
	}
	var layout struct {
		Height float64
		Charts []box
	}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(m[1]), "&quot;", `"`)), &layout); err != nil {
		t.Fatalf("probe: %v: %s", err, m[1])
	}
	wantIDs := []string{"chart-waterfall", "chart-reasons", "chart-submixes", "chart-hist-question_chars",
		"chart-hist-response_chars", "chart-hist-sample_chars", "chart-hist-sample_tokens", "chart-clusters", "chart-packing"}
	ids := map[string]bool{}
	for _, c := range layout.Charts {
		ids[c.ID] = true
	}
	for _, id := range wantIDs {
		if !ids[id] {
			t.Errorf("chart %s missing from the page", id)
		}
	}

	height := int(layout.Height) + 40 // a little slack below the footer
	shot := filepath.Join(dir, "report.png")
	chromium(t, bin, "--window-size=1100,"+strconv.Itoa(height), "--screenshot="+shot, "file://"+page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if keep := os.Getenv("ORCAPREP_KEEP_SCREENSHOT"); keep != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(keep, b, 0o644)
	}
	b := img.Bounds()
	if b.Dx() != shotWidth || b.Dy() < int(layout.Height) {
		t.Fatalf("screenshot is %dx%d, page is %dx%.0f", b.Dx(), b.Dy(), shotWidth, layout.Height)
	}

	// Control: the page margin right of the content is background, so "drawn" below means something.
	if ink, _ := inkShare(img, image.Rect(b.Dx()-40, 0, b.Dx(), int(layout.Height))); ink > 0.001 {
		t.Fatalf("page margin is not background (%.3f ink): cannot tell drawn from blank", ink)
	}
	for _, c := range layout.Charts {
		r := image.Rect(int(c.X), int(c.Y), int(c.X+c.W), int(c.Y+c.H))
		if c.W < 300 || c.H < 60 || !r.In(b) {
			t.Errorf("%s: chart box %v is too small or off the screenshot %v", c.ID, r, b)
			continue
		}
		ink, colour := inkShare(img, r)
		t.Logf("%s at %v: %.1f%% ink, %.1f%% coloured", c.ID, r, ink*100, colour*100)
		if ink < 0.02 {
			t.Errorf("%s is blank: only %.2f%% of its pixels differ from the background", c.ID, ink*100)
		}
		if colour < 0.005 {
			t.Errorf("%s has no coloured bars: %.2f%% coloured pixels", c.ID, colour*100)
		}
	}
}

// inkShare returns the share of pixels in r that are not the white background, and the share that are
// strongly coloured (chart bars, as opposed to grey text and grid lines).
func inkShare(img image.Image, r image.Rectangle) (ink, coloured float64) {
	var n, in, col int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			R, G, B := int(cr>>8), int(cg>>8), int(cb>>8)
			n++
			if R < 245 || G < 245 || B < 245 {
				in++
			}
			if max(R, G, B)-min(R, G, B) > 60 {
				col++
			}
		}
	}
	if n == 0 {
		return 0, 0
	}
	return float64(in) / float64(n), float64(col) / float64(n)
}
