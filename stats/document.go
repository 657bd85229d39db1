package stats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// Document is OUT/stats.json: the ledger (inline), the inputs, the distributions, packing and timing.
// Timing is the only part that changes between identical runs.
type Document struct {
	*Ledger
	Inputs        []InputStat    `json:"inputs"`
	Distributions *Distributions `json:"distributions,omitempty"`
	Packing       *PackingStat   `json:"packing,omitempty"`
	Timing        Timing         `json:"timing"`
}

// InputStat describes one input file.
type InputStat struct {
	// Source is what the user wrote (a path or an hf:// reference); Name the file's base name.
	Source   string `json:"source"`
	Name     string `json:"name"`
	Bytes    int64  `json:"bytes"`
	Rows     int64  `json:"rows"`
	Selected bool   `json:"selected"`
}

// PackingStat summarises bin packing of the kept samples into sequences of SequenceLen tokens.
type PackingStat struct {
	SequenceLen int   `json:"sequence_len"`
	Samples     int64 `json:"samples"`
	Tokens      int64 `json:"tokens"`
	Bins        int64 `json:"bins"`
	// Efficiency is Tokens / (Bins × SequenceLen), Axolotl's measure (the card reports 99.85%).
	Efficiency float64 `json:"efficiency"`
	// LowerBoundBins is ceil(Tokens / SequenceLen): no packing can use fewer bins.
	LowerBoundBins int64 `json:"lower_bound_bins"`
}

// Timing is wall time and throughput, overall and per stage when measured.
type Timing struct {
	Seconds    float64       `json:"seconds"`
	RowsPerSec float64       `json:"rows_per_sec"`
	Workers    int           `json:"workers"`
	Stages     []StageTiming `json:"stages,omitempty"`
}

// StageTiming is the time one stage spent (summed over workers for parallel stages) and the rows it saw.
type StageTiming struct {
	Name       string  `json:"name"`
	Seconds    float64 `json:"seconds"`
	Rows       int64   `json:"rows"`
	RowsPerSec float64 `json:"rows_per_sec"`
	// Tasks is the number of tasks of a staged run's stage (Seconds is their sum, RowsPerSec per task-second)
	// and MaxRSSMB the largest peak memory of one of them, where measured.
	Tasks    int     `json:"tasks,omitempty"`
	MaxRSSMB float64 `json:"max_rss_mb,omitempty"`
}

// ReadDocument reads and checks a stats.json. The ledger must be present and add up (Ledger.Check):
// a report built on counts that do not add up would mislead.
func ReadDocument(path string) (*Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read statistics: %w", err)
	}
	d, err := ParseDocument(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// ParseDocument decodes and checks a stats.json held in memory (see ReadDocument).
func ParseDocument(b []byte) (*Document, error) {
	var d Document
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("not a valid stats.json: %w", err)
	}
	if d.Ledger == nil || d.Ledger.BySubmix == nil {
		return nil, fmt.Errorf("not an orcaprep stats.json: no rows_read/by_submix ledger")
	}
	if d.Dropped == nil {
		d.Dropped = map[string]int64{}
	}
	if d.Nulls == nil {
		d.Nulls = map[string]int64{}
	}
	for _, s := range d.Stages {
		if s == nil {
			return nil, fmt.Errorf("not a valid stats.json: null stage")
		}
		if s.Dropped == nil {
			s.Dropped = map[string]int64{}
		}
	}
	for name, s := range d.BySubmix {
		if s == nil {
			return nil, fmt.Errorf("not a valid stats.json: null by_submix entry %q", name)
		}
		if s.Dropped == nil {
			s.Dropped = map[string]int64{}
		}
	}
	if err := d.Ledger.Check(); err != nil {
		return nil, err
	}
	if d.Inputs == nil {
		d.Inputs = []InputStat{}
	}
	return &d, nil
}

// Marshal returns the document as indented JSON with a final newline, as written to stats.json.
func (d *Document) Marshal() ([]byte, error) {
	// No HTML escaping: sample text such as <|im_start|> must stay readable, as in the shards.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// NewPackingStat fills in the derived fields (efficiency, lower bound) of a packing summary.
func NewPackingStat(sequenceLen int, samples, tokens, bins int64) *PackingStat {
	p := &PackingStat{SequenceLen: sequenceLen, Samples: samples, Tokens: tokens, Bins: bins}
	if sequenceLen > 0 {
		p.LowerBoundBins = (tokens + int64(sequenceLen) - 1) / int64(sequenceLen)
		if bins > 0 {
			p.Efficiency = float64(tokens) / (float64(bins) * float64(sequenceLen))
		}
	}
	return p
}
