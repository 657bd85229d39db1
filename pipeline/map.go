package pipeline

import (
	"fmt"
	"unicode/utf8"

	"github.com/orcaprep/orcaprep/chatml"
	"github.com/orcaprep/orcaprep/dedupe"
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/filter"
	"github.com/orcaprep/orcaprep/orca"
	"github.com/orcaprep/orcaprep/samples"
	"github.com/orcaprep/orcaprep/shard"
	"github.com/orcaprep/orcaprep/stats"
	"github.com/orcaprep/orcaprep/tokenizer"
)

// The map stages: everything decided by a row alone (select, validate, filter, the exact key, the near
// signature, rendering and tokenizing). `run` calls process in its workers and hands the batches to the
// reduce stages (reduce.go) in memory; a staged map task calls the same process and encodes the batches as
// records (record.go) for the reduce task.

// item is the map stages' verdict on one row, with the record fields the reduce stages read: those read
// nothing else of the row, so an item (and its payload) is everything that crosses from map to reduce.
// In a staged run it crosses through the record codec (record.go), which must carry every field:
// TestRecordCarriesEveryItemField fails when a field is added here and not to the codec.
type item struct {
	// From the record.
	id     string
	system string // system prompt (the statistics count rows per prompt)
	nulls  uint8  // orca.Record.Nulls
	file   int    // input index
	row    int64  // row in the file

	stage  int // index in stageOrder where the row was dropped; len(stageOrder) when it passed all
	reason string
	detail string
	// Payload, when the row passed the map stages. In `run` these are positions in the batch's arena (the
	// rendered line) and toks (packed: the sample's token ids); in a staged reduce, positions in the map task's
	// payload file (bytes for lines, tokens for ids).
	start, end       int
	tokStart, tokEnd int
	// token formats: ntok is the sample's length (-1 without a tokenizer), train its trained span
	ntok       int
	trainStart int
	trainEnd   int
	tooLong    bool
	// packed: the decimal digits of the sample's ids and of its labels, so that the length of a packed row
	// is known without its tokens (a staged reduce cuts shards by max_bytes from it: packedLineLen)
	idDigits, labelDigits int
	qChars, rChars        int        // lengths in runes, for the statistics
	sChars                int        // rendered sample length in runes; 0 when not rendered
	key                   dedupe.Key // exact-duplicate key
	sigStart, sigEnd      int        // sigs[sigStart:sigEnd] is the near-duplicate signature (dedupe.Signer)
}

// mapper holds what the map stages need; it is read-only while batches are processed, so workers share it.
type mapper struct {
	cfg      *Config
	render   chatml.Options
	submix   map[string]bool
	filters  *filter.Chain
	tok      *tokenizer.Tokenizer
	template *dedupe.TemplateSet // shingles above max_shingle_df, from the DF pass (nil: off)
	// digits: count each packed sample's decimal digits. A staged reduce plans packed rows' byte lengths from
	// them; run writes the rows and never needs them (2.5% of a full-recipe run's CPU).
	digits bool
}

func newMapper(cfg *Config, tok *tokenizer.Tokenizer) (*mapper, error) {
	m := &mapper{cfg: cfg, tok: tok, submix: map[string]bool{},
		render: chatml.Options{Style: chatml.Style(cfg.ChatML.Style), EmptySystem: cfg.ChatML.EmptySystem}}
	for _, s := range cfg.Select.Submixes {
		m.submix[s] = true
	}
	var err error
	if m.filters, err = filter.New(cfg.Filters); err != nil {
		return nil, exitcode.Errorf(exitcode.Usage, "filters: %w", err)
	}
	return m, nil
}

// selects reports whether a row of a selected file is in the selected submixes (what the DF pass counts).
func (m *mapper) selects(rec *orca.Record) bool { return m.submix[rec.Submix()] }

// workerState is what one worker goroutine owns: its sample builder (tokenizer encoder with its cache),
// its signer and scratch.
type workerState struct {
	build  *samples.Builder
	signer *dedupe.Signer
	sig    []byte
}

// worker returns the state of one more worker; call it after the template set is known.
func (m *mapper) worker() *workerState {
	ws := &workerState{}
	if m.cfg.Dedupe.Near.Enabled {
		ws.signer = dedupe.NewSigner(m.cfg.Dedupe.Near, m.template)
	}
	if m.tok != nil {
		ws.build = samples.NewBuilder(m.tok, m.render)
	}
	return ws
}

// process runs the map stages on a batch; it is called concurrently on different batches.
func (m *mapper) process(b *batch, ws *workerState) {
	b.items = b.items[:0]
	b.arena = b.arena[:0]
	b.toks = b.toks[:0]
	b.sigs = b.sigs[:0]
	for i := range b.recs {
		rec := &b.recs[i]
		it := item{id: rec.ID, system: rec.SystemPrompt, nulls: rec.Nulls, file: rec.File, row: rec.Row, stage: stKept, ntok: -1}
		qValid, rValid := true, true
		if b.selected {
			it.qChars, qValid = runeCountValid(rec.Question)
			it.rChars, rValid = runeCountValid(rec.Response)
		}
		switch {
		case !b.selected || !m.submix[rec.Submix()]:
			it.stage, it.reason = stSelect, stats.ReasonNotSelected
		case !qValid || !rValid || !utf8.ValidString(rec.ID) || !utf8.ValidString(rec.SystemPrompt):
			it.stage, it.reason, it.detail = stValidate, stats.ReasonInvalidUTF8, invalidField(rec)
		default:
			if reason, detail := m.filters.Apply(rec); reason != "" {
				it.stage, it.reason, it.detail = stFilter, reason, detail
				break
			}
			// Keys and signatures are pure functions of the row, so they are computed here in parallel;
			// only the lookups against earlier rows run in the ordered reduce.
			if m.cfg.Dedupe.Exact.Enabled {
				it.key = dedupe.ExactKey(m.cfg.Dedupe.Exact, rec)
			}
			if m.cfg.Dedupe.Near.Enabled {
				ws.sig = ws.signer.Sign(rec, ws.sig) // overwrites its buffer
				it.sigStart = len(b.sigs)
				b.sigs = append(b.sigs, ws.sig...)
				it.sigEnd = len(b.sigs)
			}
			it.sChars = it.qChars + it.rChars + chatml.MarkupLen(rec, m.render)
			if chatml.HasSystem(rec, m.render) {
				it.sChars += runeCount(rec.SystemPrompt)
			}
			m.render1(b, &it, rec, ws)
		}
		b.items = append(b.items, it)
	}
}

// render1 tokenizes (when configured) and renders the output line of a row that passed the row-local stages.
func (m *mapper) render1(b *batch, it *item, rec *orca.Record, ws *workerState) {
	if m.tok == nil {
		it.start = len(b.arena)
		b.arena = m.appendLine(b.arena, rec)
		it.end = len(b.arena)
		return
	}
	s := ws.build.Build(rec)
	it.ntok = len(s.IDs)
	if it.ntok > m.cfg.Packing.SequenceLen {
		if m.cfg.Packing.Excess == "drop" {
			it.tooLong = true
			it.detail = fmt.Sprintf("%d tokens > sequence_len %d", it.ntok, m.cfg.Packing.SequenceLen)
			return
		}
		s.IDs = s.IDs[:m.cfg.Packing.SequenceLen]
		s.TrainEnd = min(s.TrainEnd, len(s.IDs))
		s.TrainStart = min(s.TrainStart, len(s.IDs))
		it.ntok = len(s.IDs)
	}
	it.trainStart, it.trainEnd = s.TrainStart, s.TrainEnd
	switch m.cfg.Format {
	case FormatPacked:
		it.tokStart = len(b.toks)
		b.toks = append(b.toks, s.IDs...)
		it.tokEnd = len(b.toks)
		if m.digits {
			it.idDigits, it.labelDigits = sampleDigits(s.IDs, s.TrainStart, s.TrainEnd)
		}
	case FormatTokenized:
		it.start = len(b.arena)
		b.arena = appendTokenizedLine(b.arena, s)
		it.end = len(b.arena)
	default:
		it.start = len(b.arena)
		b.arena = m.appendLine(b.arena, rec)
		it.end = len(b.arena)
	}
}

// appendLine renders one output row in the configured format.
func (m *mapper) appendLine(dst []byte, rec *orca.Record) []byte {
	dst = append(dst, `{"id":`...)
	dst = shard.AppendString(dst, rec.ID)
	switch m.cfg.Format {
	case FormatMessages:
		dst = append(dst, `,"messages":[`...)
		for i, msg := range chatml.Messages(rec, m.render) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"role":`...)
			dst = shard.AppendString(dst, msg.Role)
			dst = append(dst, `,"content":`...)
			dst = shard.AppendString(dst, msg.Content)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	default: // text
		// Escaped piece by piece straight into dst: a huge response is never held raw and escaped at once.
		dst = append(dst, `,"text":"`...)
		dst = chatml.AppendTextWith(dst, rec, m.render, shard.AppendEscaped)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

func invalidField(r *orca.Record) string {
	for i, s := range []string{r.ID, r.SystemPrompt, r.Question, r.Response} {
		if !utf8.ValidString(s) {
			for j := 0; j < len(s); {
				c, n := utf8.DecodeRuneInString(s[j:])
				if c == utf8.RuneError && n == 1 {
					return fmt.Sprintf("%s: invalid UTF-8 at byte %d", orca.Columns[i], j)
				}
				j += n
			}
		}
	}
	return ""
}
