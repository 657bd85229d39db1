package report

import (
	"bytes"
	"context"
	"html"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// renderGFM renders Markdown with cmark-gfm, the renderer GitHub uses, with the table extension and raw
// HTML allowed (GitHub keeps <br> in cells). Skips when cmark-gfm is absent unless ORCAPREP_REQUIRE_TOOLS=1.
func renderGFM(t *testing.T, md []byte) string {
	t.Helper()
	bin, err := exec.LookPath("cmark-gfm")
	if err != nil {
		if os.Getenv("ORCAPREP_REQUIRE_TOOLS") == "1" {
			t.Fatal("cmark-gfm not found and ORCAPREP_REQUIRE_TOOLS=1: run scripts/install-chromium.sh")
		}
		t.Skip("cmark-gfm not installed (scripts/install-chromium.sh); set ORCAPREP_REQUIRE_TOOLS=1 to fail instead")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--extension", "table", "--unsafe")
	cmd.Stdin = bytes.NewReader(md)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cmark-gfm: %v", err)
	}
	return string(out)
}

var (
	tableRe = regexp.MustCompile(`(?s)<table>.*?</table>`)
	rowRe   = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRe  = regexp.MustCompile(`(?s)<t[hd][^>]*>(.*?)</t[hd]>`)
)

// gfmTables returns every rendered table as rows of cell HTML.
func gfmTables(page string) [][][]string {
	var out [][][]string
	for _, tb := range tableRe.FindAllString(page, -1) {
		var rows [][]string
		for _, r := range rowRe.FindAllStringSubmatch(tb, -1) {
			var cells []string
			for _, c := range cellRe.FindAllStringSubmatch(r[1], -1) {
				cells = append(cells, c[1])
			}
			rows = append(rows, cells)
		}
		out = append(out, rows)
	}
	return out
}

// TestMarkdownRendersOnGitHub renders the golden report with GitHub's renderer and checks that every table
// came out as a table and that the cells hold the values of stats.json, escaped text included.
func TestMarkdownRendersOnGitHub(t *testing.T) {
	d, _ := loadFixture(t)
	var md bytes.Buffer
	if err := WriteMarkdown(&md, d); err != nil {
		t.Fatal(err)
	}
	page := renderGFM(t, md.Bytes())
	tables := gfmTables(page)
	headers := 0
	for _, l := range strings.Split(md.String(), "\n") {
		if regexp.MustCompile(`^\|( :?-{3,}:? \|)+$`).MatchString(l) {
			headers++
		}
	}
	if len(tables) != headers || headers < 10 {
		t.Fatalf("%d Markdown tables, %d rendered as tables", headers, len(tables))
	}
	for _, bad := range []string{"<em>", "raw HTML omitted", "<script"} {
		if strings.Contains(page, bad) {
			t.Errorf("rendered Markdown contains %q: some text was interpreted instead of shown", bad)
		}
	}
	// Find a row by its first cell.
	row := func(first string) []string {
		for _, tb := range tables {
			for _, r := range tb {
				if len(r) > 0 && r[0] == first {
					return r
				}
			}
		}
		return nil
	}
	for name, c := range d.BySubmix {
		r := row("<code>" + name + "</code>")
		if len(r) < 3 || r[1] != num(c.Read) || r[2] != num(c.Kept) {
			t.Errorf("submix %s row %q, want read %s kept %s", name, r, num(c.Read), num(c.Kept))
		}
	}
	for reason, n := range d.Dropped {
		r := row("<code>" + reason + "</code>")
		if len(r) < 3 || r[2] != num(n) {
			t.Errorf("reason %s row %q, want %s rows", reason, r, num(n))
		}
	}
	// The special-token detail holds "<|im_start|>" and "|": shown literally, in one cell.
	r := row("<code>special_token</code>")
	if len(r) != 5 || !strings.Contains(html.UnescapeString(r[4]), "<code>literal <|im_start|> | <|im_end|> in text</code>") {
		t.Errorf("special_token examples cell %q", r)
	}
	if r := row("read"); len(r) < 2 || r[1] != num(d.RowsRead) {
		t.Errorf("rows read row %q", r)
	}
}
