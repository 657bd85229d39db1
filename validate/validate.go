package validate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/shard"
	"github.com/orcaprep/orcaprep/stats"
	"github.com/zeebo/xxh3"
)

// Output formats, as named in manifest.json.
const (
	FormatText      = "text"
	FormatMessages  = "messages"
	FormatTokenized = "tokenized"
	FormatPacked    = "packed"
)

// DefaultMaxErrors is how many problems are printed when Options.MaxErrors is 0.
const DefaultMaxErrors = 20

// Options tune Run.
type Options struct {
	// MaxErrors is how many problems are kept in the Report and printed; all of them are counted.
	// 0 means DefaultMaxErrors.
	MaxErrors int
}

// Problem is one failed check: where (a file relative to OUT, and a 1-based line, 0 for the whole file)
// and what.
type Problem struct {
	File string `json:"file"`
	Line int64  `json:"line,omitempty"`
	Msg  string `json:"msg"`
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Report is what Run checked and found.
type Report struct {
	Dir       string `json:"dir"`
	Format    string `json:"format"`
	DataFiles int    `json:"data_files"`
	// Rows are data lines; Samples the training samples in them (more than Rows when packed).
	Rows    int64 `json:"rows"`
	Samples int64 `json:"samples"`
	// Tokens is the total row length (token formats only).
	Tokens int64 `json:"tokens"`
	// DuplicateIDs counts samples whose id was seen before. It is not an error (OpenOrca has repeated ids
	// with different content, and dedupe works on content), but the index cannot tell them apart.
	DuplicateIDs int64 `json:"duplicate_ids"`
	// Errors counts every problem found; Problems holds the first Options.MaxErrors of them.
	Errors   int       `json:"errors"`
	Problems []Problem `json:"problems"`
}

// manifest is the part of OUT/manifest.json that validate relies on.
type manifest struct {
	Tool         string          `json:"tool"`
	Format       string          `json:"format"`
	Config       json.RawMessage `json:"config"`
	ConfigSHA256 string          `json:"config_sha256"`
	Shards       []shard.Info    `json:"shards"`
	Rejected     []shard.Info    `json:"rejected"`
	Index        []shard.Info    `json:"index"`
	RowsRead     *int64          `json:"rows_read"`
	RowsKept     *int64          `json:"rows_kept"`
	Tokenizer    *struct {
		VocabSize   int              `json:"vocab_size"`
		BOS         *int32           `json:"bos"`
		EOS         *int32           `json:"eos"`
		AddedTokens map[string]int32 `json:"added_tokens"`
	} `json:"tokenizer"`
	TokenizerDir *tokenizerDir `json:"tokenizer_dir"`
	SequenceLen  int           `json:"sequence_len"`
}

func (m *manifest) tokenFormat() bool { return m.Format == FormatTokenized || m.Format == FormatPacked }

// Run validates the output directory dir against its manifest.json and stats.json, printing the first
// problems and a summary to w (which may be nil).
//
// It returns an exitcode.Input error when the manifest is missing or unusable, an exitcode.Integrity error
// naming the first problem and the count when any check fails, and nil when everything holds.
func Run(ctx context.Context, dir string, opts Options, w io.Writer) (Report, error) {
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = DefaultMaxErrors
	}
	if w == nil {
		w = io.Discard
	}
	v := &checker{ctx: ctx, dir: dir, opts: opts, rep: Report{Dir: dir, Problems: []Problem{}}, ids: map[uint64]struct{}{}}
	m, err := loadManifest(dir)
	if err != nil {
		return v.rep, exitcode.With(exitcode.Input, err)
	}
	v.m = m
	v.rep.Format = m.Format
	if err := v.run(); err != nil {
		return v.rep, err
	}
	for _, p := range v.rep.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if v.rep.Errors > 0 {
		more := ""
		if v.rep.Errors > len(v.rep.Problems) {
			more = fmt.Sprintf(" (first %d shown)", len(v.rep.Problems))
		}
		fmt.Fprintf(w, "orcaprep validate: %s FAILED: %s%s\n", dir, plural(v.rep.Errors, "error"), more)
		// The problems are listed above; the error only gives the verdict, so none is printed twice.
		return v.rep, exitcode.Errorf(exitcode.Integrity, "%s failed validation: %s (listed on standard output)", dir, plural(v.rep.Errors, "error"))
	}
	fmt.Fprintf(w, "orcaprep validate: %s ok: %s\n", dir, v.summary())
	return v.rep, nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func loadManifest(dir string) (*manifest, error) {
	p := filepath.Join(dir, "manifest.json")
	b, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s has no manifest.json: not an orcaprep output directory (or the run did not finish)", dir)
		}
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: not valid JSON: %w", p, err)
	}
	if m.Tool != "orcaprep" {
		return nil, fmt.Errorf("%s: tool is %q, want \"orcaprep\"", p, m.Tool)
	}
	switch m.Format {
	case FormatText, FormatMessages, FormatTokenized, FormatPacked:
	default:
		return nil, fmt.Errorf("%s: unknown format %q (want text, messages, tokenized or packed)", p, m.Format)
	}
	if m.Shards == nil {
		return nil, fmt.Errorf("%s: no \"shards\" list", p)
	}
	if m.RowsRead == nil || m.RowsKept == nil {
		return nil, fmt.Errorf("%s: rows_read or rows_kept missing", p)
	}
	if m.tokenFormat() {
		if m.Tokenizer == nil || m.Tokenizer.VocabSize <= 0 {
			return nil, fmt.Errorf("%s: format %s needs tokenizer.vocab_size", p, m.Format)
		}
		if m.SequenceLen <= 0 {
			return nil, fmt.Errorf("%s: format %s needs a positive sequence_len", p, m.Format)
		}
		if m.Index == nil {
			return nil, fmt.Errorf("%s: format %s needs an \"index\" list", p, m.Format)
		}
	}
	return &m, nil
}

// checker holds the state of one validation.
type checker struct {
	ctx      context.Context
	dir      string
	opts     Options
	m        *manifest
	rep      Report
	ids      map[uint64]struct{} // xxh3 of every sample id seen, to catch a sample written twice
	dups     int64
	firstDup string
	tc       *tokCheck // OUT/tokenizer re-encoding (tokenizer.go); nil without a tokenizer directory
}

func (v *checker) problem(file string, line int64, format string, a ...any) {
	v.rep.Errors++
	if len(v.rep.Problems) < v.opts.MaxErrors {
		v.rep.Problems = append(v.rep.Problems, Problem{File: file, Line: line, Msg: fmt.Sprintf(format, a...)})
	}
}

func (v *checker) run() error {
	m := v.m
	if len(m.Config) > 0 {
		var c bytes.Buffer
		if err := json.Compact(&c, m.Config); err == nil {
			if sum := sha256.Sum256(c.Bytes()); hex.EncodeToString(sum[:]) != m.ConfigSHA256 {
				v.problem("manifest.json", 0, "config_sha256 %s does not match the recorded config", m.ConfigSHA256)
			}
		}
	}
	listed := map[string]bool{}
	for _, l := range []struct {
		name, dir string
		infos     []shard.Info
	}{{"shards", "data", m.Shards}, {"rejected", "rejected", m.Rejected}, {"index", "index", m.Index}} {
		for i, in := range l.infos {
			if !safePath(in.Path, l.dir) {
				v.problem("manifest.json", 0, "%s[%d].path %q is not a file under %s/", l.name, i, in.Path, l.dir)
				continue
			}
			if listed[in.Path] {
				v.problem("manifest.json", 0, "%s is listed twice", in.Path)
			}
			listed[in.Path] = true
		}
	}
	if m.TokenizerDir != nil {
		for _, f := range m.TokenizerDir.Files {
			listed[f.Path] = true
		}
	}
	v.strayFiles(listed)
	v.tokenizerDir()

	if m.tokenFormat() && len(m.Index) != len(m.Shards) {
		v.problem("manifest.json", 0, "index lists %d files but shards %d: index/ must mirror data/ file for file", len(m.Index), len(m.Shards))
	}
	for i, in := range m.Shards {
		if err := v.ctx.Err(); err != nil {
			return err
		}
		if !safePath(in.Path, "data") {
			continue
		}
		v.rep.DataFiles++
		var idx *shard.Info
		if m.tokenFormat() && i < len(m.Index) && safePath(m.Index[i].Path, "index") {
			idx = &m.Index[i]
			if path.Base(idx.Path) != path.Base(in.Path) {
				v.problem("manifest.json", 0, "index[%d] is %s but shards[%d] is %s: names must match", i, idx.Path, i, in.Path)
			}
		}
		if err := v.dataFile(in, idx); err != nil {
			return err
		}
	}
	var rejectedRows int64
	for _, in := range m.Rejected {
		if err := v.ctx.Err(); err != nil {
			return err
		}
		if safePath(in.Path, "rejected") {
			v.rejectedFile(in)
			rejectedRows += in.Rows
		}
	}
	v.ledger(rejectedRows)
	v.axolotlPaths()
	return nil
}

// safePath reports whether p (from the manifest) names a file inside OUT/dir, so a crafted manifest cannot
// make validate read elsewhere.
func safePath(p, dir string) bool {
	return strings.HasPrefix(p, dir+"/") && filepath.IsLocal(filepath.FromSlash(p)) && path.Clean(p) == p
}

// strayFiles reports files in data/, index/, rejected/ and tokenizer/ that the manifest does not list: a glob in
// a trainer config would pick them up (a leftover temp file, a shard from an older run), and a loader reads every
// file of a tokenizer directory.
func (v *checker) strayFiles(listed map[string]bool) {
	for _, d := range []string{"data", "index", "rejected", "tokenizer"} {
		ents, err := os.ReadDir(filepath.Join(v.dir, d))
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				v.problem(d, 0, "cannot list: %v", err)
			}
			continue
		}
		for _, e := range ents {
			if p := d + "/" + e.Name(); !listed[p] {
				v.problem(p, 0, "file is not listed in manifest.json")
			}
		}
	}
}

// openChecked opens a listed file for reading; a missing file is a problem, not an error.
func (v *checker) openChecked(in shard.Info) *source {
	s, err := openSource(filepath.Join(v.dir, filepath.FromSlash(in.Path)))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			v.problem(in.Path, 0, "listed in manifest.json but missing")
		} else {
			v.problem(in.Path, 0, "cannot read: %v", err)
		}
		return nil
	}
	return s
}

// closeChecked finishes a file: the checksum, the size and the row count against the manifest.
// A checksum or size mismatch is listed before the line problems found in the file since first (the
// index of its first problem): it is the cause, and the garbage lines that follow are its symptoms.
func (v *checker) closeChecked(s *source, in shard.Info, rows int64, first int) {
	sum, n, err := s.finish()
	s.close()
	var lead []Problem
	if err != nil {
		lead = append(lead, Problem{File: in.Path, Msg: fmt.Sprintf("read: %v", err)})
	} else {
		if n != in.Bytes {
			lead = append(lead, Problem{File: in.Path, Msg: fmt.Sprintf("size %d bytes, manifest says %d", n, in.Bytes)})
		}
		if sum != in.SHA256 {
			lead = append(lead, Problem{File: in.Path, Msg: fmt.Sprintf("sha256 %s, manifest says %s (the file changed or is corrupt)", sum, in.SHA256)})
		}
	}
	v.rep.Errors += len(lead)
	if first < len(v.rep.Problems) {
		v.rep.Problems = append(v.rep.Problems[:first], append(lead, v.rep.Problems[first:]...)...)
	} else {
		v.rep.Problems = append(v.rep.Problems, lead...)
	}
	if len(v.rep.Problems) > v.opts.MaxErrors {
		v.rep.Problems = v.rep.Problems[:v.opts.MaxErrors]
	}
	if rows != in.Rows {
		v.problem(in.Path, 0, "%d rows, manifest says %d", rows, in.Rows)
	}
}

// lineErr reports a failure to read the next line (truncation, bad zstd) and whether reading is over.
func (v *checker) lineErr(s *source, in shard.Info, err error) bool {
	if err == nil {
		return false
	}
	if err != io.EOF {
		v.problem(in.Path, s.line+1, "%v", err)
	}
	return true
}

func (v *checker) seenID(id string) {
	h := xxh3.HashString(id)
	if _, ok := v.ids[h]; ok {
		v.rep.DuplicateIDs++
		return
	}
	v.ids[h] = struct{}{}
}

// dataFile checks one data shard line by line; for token formats it walks the index file in step.
func (v *checker) dataFile(in shard.Info, idxInfo *shard.Info) error {
	first := len(v.rep.Problems)
	s := v.openChecked(in)
	var is *source
	if idxInfo != nil {
		is = v.openChecked(*idxInfo)
	}
	var rows, idxRows int64
	lim := tokenLimits{packed: v.m.Format == FormatPacked, seqLen: v.m.SequenceLen}
	if v.m.Tokenizer != nil {
		lim.vocab = v.m.Tokenizer.VocabSize
	}
	var tr tokenRow
	dataDone, idxDone := s == nil, is == nil
	mismatch := false // index and data row counts differ: reported once
	for !dataDone || !idxDone {
		if (rows+idxRows)&255 == 0 {
			if err := v.ctx.Err(); err != nil {
				for _, src := range []*source{s, is} {
					if src != nil {
						src.close()
					}
				}
				return err
			}
		}
		samples := -1 // samples in this data row; -1 when there is none or it is unreadable
		readData := false
		if !dataDone {
			line, err := s.next()
			if dataDone = v.lineErr(s, in, err); !dataDone {
				rows++
				v.rep.Rows++
				readData = true
				samples = v.dataLine(in.Path, s.line, line, &tr, lim)
			}
		}
		if idxDone {
			continue
		}
		line, err := is.next()
		if idxDone = v.lineErr(is, *idxInfo, err); idxDone {
			if readData && s != nil && !mismatch {
				mismatch = true
				v.problem(idxInfo.Path, is.line+1, "index ends before %s row %d: index/ must mirror data/ line for line", in.Path, rows)
			}
			continue
		}
		idxRows++
		if !readData {
			if s != nil && !mismatch {
				mismatch = true
				v.problem(idxInfo.Path, is.line, "index has more rows than %s (%d): index/ must mirror data/ line for line", in.Path, rows)
			}
			continue
		}
		v.indexLine(*idxInfo, in, is.line, line, samples, lim.packed)
	}
	if s != nil {
		v.closeChecked(s, in, rows, first)
	}
	if is != nil {
		v.closeChecked(is, *idxInfo, idxRows, first)
	}
	return nil
}

// dataLine checks one data row and returns its number of samples (-1 when it could not be parsed).
func (v *checker) dataLine(file string, lineNo int64, line []byte, tr *tokenRow, lim tokenLimits) int {
	switch v.m.Format {
	case FormatTokenized, FormatPacked:
		if err := parseTokenRow(line, tr); err != nil {
			v.problem(file, lineNo, "%v", err)
			return -1
		}
		probs, samples := checkTokenRow(tr, lim)
		for _, p := range probs {
			v.problem(file, lineNo, "%s", p)
		}
		if len(probs) == 0 && v.tc != nil {
			v.reencode(file, lineNo, tr)
		}
		v.rep.Tokens += int64(len(tr.inputIDs))
		return samples
	case FormatText:
		var r struct {
			ID   *string `json:"id"`
			Text *string `json:"text"`
		}
		if !v.decodeStrict(file, lineNo, line, &r) {
			return -1
		}
		if r.ID == nil || *r.ID == "" || r.Text == nil || *r.Text == "" {
			v.problem(file, lineNo, `want non-empty "id" and "text"`)
			return -1
		}
		v.countSample(*r.ID)
		return 1
	case FormatMessages:
		var r struct {
			ID       *string `json:"id"`
			Messages []struct {
				Role    *string `json:"role"`
				Content *string `json:"content"`
			} `json:"messages"`
		}
		if !v.decodeStrict(file, lineNo, line, &r) {
			return -1
		}
		if r.ID == nil || *r.ID == "" {
			v.problem(file, lineNo, `want a non-empty "id"`)
			return -1
		}
		var roles []string
		ok := true
		for _, msg := range r.Messages {
			if msg.Role == nil || msg.Content == nil {
				ok = false
				break
			}
			roles = append(roles, *msg.Role)
			if *msg.Role != "system" && *msg.Content == "" {
				ok = false
			}
		}
		got := strings.Join(roles, ",")
		if !ok || (got != "user,assistant" && got != "system,user,assistant") {
			v.problem(file, lineNo, "messages must be [system,] user, assistant with string content (non-empty for user and assistant); got roles [%s]", got)
			return -1
		}
		v.countSample(*r.ID)
		return 1
	}
	return -1
}

func (v *checker) countSample(id string) {
	v.rep.Samples++
	v.seenID(id)
}

// decodeStrict decodes one JSON object into dst, refusing unknown fields and trailing data.
func (v *checker) decodeStrict(file string, lineNo int64, line []byte, dst any) bool {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		v.problem(file, lineNo, "invalid JSON: %v", err)
		return false
	}
	if !onlySpace(line[dec.InputOffset():]) {
		v.problem(file, lineNo, "invalid JSON: unexpected data after the object")
		return false
	}
	return true
}

// indexLine checks one index row against the data row beside it (samples < 0: that row was unreadable).
func (v *checker) indexLine(idx, data shard.Info, lineNo int64, line []byte, samples int, packed bool) {
	var r struct {
		Shard *string  `json:"shard"`
		Row   *int64   `json:"row"`
		IDs   []string `json:"ids"`
	}
	if !v.decodeStrict(idx.Path, lineNo, line, &r) {
		return
	}
	if r.Shard == nil || r.Row == nil || r.IDs == nil {
		v.problem(idx.Path, lineNo, `want "shard", "row" and "ids"`)
		return
	}
	if want := path.Base(data.Path); *r.Shard != want || *r.Row != lineNo-1 {
		v.problem(idx.Path, lineNo, "points at %s row %d, want %s row %d (rows count from 0)", *r.Shard, *r.Row, want, lineNo-1)
	}
	if !packed && len(r.IDs) != 1 {
		v.problem(idx.Path, lineNo, "tokenized rows hold one sample, index lists %d ids", len(r.IDs))
	}
	if samples >= 0 && packed && samples != len(r.IDs) {
		v.problem(data.Path, lineNo, "position_ids start %d samples but the index lists %d ids", samples, len(r.IDs))
	}
	for _, id := range r.IDs {
		if id == "" {
			v.problem(idx.Path, lineNo, "empty sample id")
			continue
		}
		v.countSample(id)
	}
}

// rejectedFile checks a rejected-rows file: checksum, size, rows, and that every line is a JSON object
// with an id and a reason.
func (v *checker) rejectedFile(in shard.Info) {
	first := len(v.rep.Problems)
	s := v.openChecked(in)
	if s == nil {
		return
	}
	var rows int64
	for {
		line, err := s.next()
		if v.lineErr(s, in, err) {
			break
		}
		rows++
		var r struct {
			ID     *string `json:"id"`
			Reason *string `json:"reason"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			v.problem(in.Path, s.line, "invalid JSON: %v", err)
		} else if r.ID == nil || r.Reason == nil || *r.Reason == "" {
			v.problem(in.Path, s.line, `want "id" and a non-empty "reason"`)
		}
	}
	v.closeChecked(s, in, rows, first)
}

// ledger checks stats.json: the counts add up, agree with the manifest, and rows_kept equals the samples
// actually found in the shards.
func (v *checker) ledger(rejectedRows int64) {
	const f = "stats.json"
	b, err := os.ReadFile(filepath.Join(v.dir, f))
	if err != nil {
		v.problem(f, 0, "cannot read: %v", err)
		return
	}
	var doc stats.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		v.problem(f, 0, "invalid JSON: %v", err)
		return
	}
	l := doc.Ledger
	if l == nil {
		v.problem(f, 0, "no ledger (rows_read, rows_kept, dropped)")
		return
	}
	if err := l.Check(); err != nil {
		v.problem(f, 0, "%v", err)
	}
	if l.RowsRead != *v.m.RowsRead || l.RowsKept != *v.m.RowsKept {
		v.problem(f, 0, "rows_read %d, rows_kept %d, but manifest.json says %d, %d", l.RowsRead, l.RowsKept, *v.m.RowsRead, *v.m.RowsKept)
	}
	where := "data lines"
	if v.m.tokenFormat() {
		where = "sample ids in index/"
	}
	if l.RowsKept != v.rep.Samples {
		v.problem(f, 0, "rows_kept is %d but the output holds %d samples (%s)", l.RowsKept, v.rep.Samples, where)
	}
	if d := l.DroppedTotal(); rejectedRows > d {
		v.problem(f, 0, "rejected/ holds %d rows but the ledger drops only %d", rejectedRows, d)
	}
	if v.m.Format != FormatPacked {
		return
	}
	p := doc.Packing
	if p == nil {
		v.problem(f, 0, `packed output without "packing" statistics`)
		return
	}
	want := stats.NewPackingStat(v.m.SequenceLen, v.rep.Samples, v.rep.Tokens, v.rep.Rows)
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"sequence_len", int64(p.SequenceLen), int64(want.SequenceLen)},
		{"samples", p.Samples, want.Samples},
		{"tokens", p.Tokens, want.Tokens},
		{"bins", p.Bins, want.Bins},
		{"lower_bound_bins", p.LowerBoundBins, want.LowerBoundBins},
	} {
		if c.got != c.want {
			v.problem(f, 0, "packing.%s is %d, the shards give %d", c.name, c.got, c.want)
		}
	}
	if diff := p.Efficiency - want.Efficiency; diff > 1e-9 || diff < -1e-9 {
		v.problem(f, 0, "packing.efficiency is %v, the shards give %v", p.Efficiency, want.Efficiency)
	}
}

func (v *checker) summary() string {
	r := v.rep
	s := fmt.Sprintf("%s, %d data files, %d rows", r.Format, r.DataFiles, r.Rows)
	if r.Samples != r.Rows {
		s += fmt.Sprintf(", %d samples", r.Samples)
	}
	if v.m.tokenFormat() {
		s += fmt.Sprintf(", %d tokens", r.Tokens)
		if v.m.Format == FormatPacked && r.Rows > 0 {
			s += fmt.Sprintf(" (packing efficiency %.4f%%)", 100*float64(r.Tokens)/(float64(r.Rows)*float64(v.m.SequenceLen)))
		}
	}
	if r.DuplicateIDs > 0 {
		s += fmt.Sprintf(" (%d repeat an earlier sample's id)", r.DuplicateIDs)
	}
	if v.m.TokenizerDir != nil {
		s += "; OUT/tokenizer matches the manifest"
		if tc := v.tc; tc != nil {
			s += fmt.Sprintf(" and re-encodes %d sampled samples to the shard ids", tc.checked)
			if tc.skipped > 0 {
				s += fmt.Sprintf(" (%d skipped: not valid UTF-8 as text)", tc.skipped)
			}
		}
	}
	s += fmt.Sprintf("; checksums match; ledger adds up (%d read = %d kept + %d dropped)", *v.m.RowsRead, *v.m.RowsKept, *v.m.RowsRead-*v.m.RowsKept)
	return s
}
