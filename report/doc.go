// Package report renders a stats.json (stats.Document) as a terminal summary, JSON, GitHub Markdown or one
// self-contained HTML page with inline SVG charts, and builds the same document from raw Parquet input.
package report
