package pipeline

import (
	"encoding/json"
	"path/filepath"

	"github.com/orcaprep/orcaprep/shard"
	"github.com/orcaprep/orcaprep/stats"
)

// Manifest is OUT/manifest.json: what was read, with which recipe, and every file written with its checksum.
// It holds nothing that changes between identical runs (no timestamps), so it is reproducible to the byte.
type Manifest struct {
	Tool         string          `json:"tool"`
	Version      string          `json:"version"`
	Format       string          `json:"format"`
	Config       json.RawMessage `json:"config"`
	ConfigSHA256 string          `json:"config_sha256"`
	Inputs       []Input         `json:"inputs"`
	Shards       []shard.Info    `json:"shards"`
	Rejected     []shard.Info    `json:"rejected"`
	// Index mirrors Shards file for file (token formats): which sample ids each row holds.
	Index     []shard.Info   `json:"index,omitempty"`
	Tokenizer *TokenizerInfo `json:"tokenizer,omitempty"`
	// TokenizerDir is OUT/tokenizer, written whenever a tokenizer is configured (any format).
	TokenizerDir *TokenizerDir `json:"tokenizer_dir,omitempty"`
	SequenceLen  int           `json:"sequence_len,omitempty"`
	RowsRead     int64         `json:"rows_read"`
	RowsKept     int64         `json:"rows_kept"`
}

// Stats is OUT/stats.json (see the stats package). Timing is the only part that varies between runs.
type Stats = stats.Document

func dirOf(p string) string { return filepath.Dir(p) }

func nonNil(s []shard.Info) []shard.Info {
	if s == nil {
		return []shard.Info{}
	}
	return s
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
