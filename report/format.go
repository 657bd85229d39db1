package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/orcaprep/orcaprep/stats"
)

// Format is a report format.
type Format string

// The report formats.
const (
	Text     Format = "text"
	JSON     Format = "json"
	Markdown Format = "markdown"
	HTML     Format = "html"
)

// Formats lists the formats in help order.
var Formats = []Format{Text, JSON, Markdown, HTML}

// ParseFormat validates a --format value ("md" is accepted for markdown).
func ParseFormat(s string) (Format, error) {
	if s == "md" {
		return Markdown, nil
	}
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown report format %q (want text, json, markdown or html)", s)
}

// Render writes d to w in format f. The output depends only on d, so the same stats.json gives the same bytes.
func Render(w io.Writer, d *stats.Document, f Format) error {
	switch f {
	case Text:
		return WriteText(w, d)
	case JSON:
		b, err := d.Marshal()
		if err != nil {
			return fmt.Errorf("encode statistics: %w", err)
		}
		_, err = w.Write(b)
		return err
	case Markdown:
		return WriteMarkdown(w, d)
	case HTML:
		return WriteHTML(w, d)
	}
	return fmt.Errorf("unknown report format %q", f)
}

// WriteFile renders d into path under a temporary name in the same directory and renames it into place,
// so a reader never sees a half-written report and a failure leaves any previous report intact.
func WriteFile(path string, d *stats.Document, f Format) error {
	var buf bytes.Buffer
	if err := Render(&buf, d, f); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	ok = true
	return nil
}
