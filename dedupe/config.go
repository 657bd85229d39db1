package dedupe

import (
	"fmt"
	"math"
)

// Config is the `dedupe:` section of the orcaprep YAML config (JSON tags match, for the manifest).
type Config struct {
	Exact ExactConfig `yaml:"exact" json:"exact"`
	Near  NearConfig  `yaml:"near" json:"near"`
}

// ExactConfig configures exact-duplicate removal on a normalized key over Fields.
type ExactConfig struct {
	Enabled bool     `yaml:"enabled" json:"enabled"`
	Fields  []string `yaml:"fields" json:"fields"`
}

// NearConfig configures MinHash-LSH near-duplicate removal over word NGram shingles of Fields.
type NearConfig struct {
	Enabled bool     `yaml:"enabled" json:"enabled"`
	Fields  []string `yaml:"fields" json:"fields"`
	// NGram is the shingle length in words.
	NGram int `yaml:"ngram" json:"ngram"`
	// Threshold is the word-n-gram Jaccard similarity at and above which a row is a near duplicate.
	Threshold float64 `yaml:"threshold" json:"threshold"`
	// ConfirmThreshold is the estimated Jaccard a candidate must reach to be dropped. 0 (the default) sets it
	// to Threshold minus 1.5 standard deviations of the estimator at Threshold, so that pairs at the threshold
	// are still caught (recall) while pairs well below it are not (see README.md).
	ConfirmThreshold float64 `yaml:"confirm_threshold" json:"confirm_threshold"`
	// NumPerm is the number of MinHash values (one-permutation-hashing bins); a power of two.
	NumPerm int `yaml:"num_perm" json:"num_perm"`
	// Bands × Rows of the signature feed the LSH index (Bands*Rows <= NumPerm).
	Bands int `yaml:"bands" json:"bands"`
	Rows  int `yaml:"rows" json:"rows"`
	// SigBits is how many low bits of each MinHash value are kept per row for confirming candidates
	// (b-bit MinHash): 1, 2, 4, 8 or 16.
	SigBits int `yaml:"sig_bits" json:"sig_bits"`
	// Seed makes the hash family; the same seed gives the same result on every machine.
	Seed uint64 `yaml:"seed" json:"seed"`
	// MaxShingleDF makes near-dedupe template-aware: a first read of the input counts in how many rows each
	// shingle of DFFields occurs, and words covered by a shingle found in more than MaxShingleDF rows (a task
	// definition, a prompt template, an answer scaffold) do not count as what makes a row distinct (README.md,
	// "Templates"). 0 turns it off (one read; every shingle counts, as before).
	MaxShingleDF int `yaml:"max_shingle_df" json:"max_shingle_df"`
	// DFFields are the fields whose shingles are counted in the first read (templates live in the question).
	DFFields []string `yaml:"df_fields" json:"df_fields"`
	// DFSketchMB is the document-frequency sketch's size; 0 = 64 bytes per selected input row (power of two).
	DFSketchMB int `yaml:"df_sketch_mb" json:"df_sketch_mb"`
	// TemplateSample keeps one template shingle in TemplateSample (chosen by hash) in the signature, so a
	// shared template weighs 1/TemplateSample of its length; 0 leaves all template shingles out.
	TemplateSample int `yaml:"template_sample" json:"template_sample"`
}

// Field names usable in fields lists.
const (
	FieldSystemPrompt = "system_prompt"
	FieldQuestion     = "question"
	FieldResponse     = "response"
)

// DefaultConfig returns the defaults: exact on (system_prompt, question, response); near on
// (question, response), word 5-grams, Jaccard 0.8, 256 one-permutation-hashing bins, 10 bands × 5 rows,
// 2-bit values kept for confirmation.
func DefaultConfig() Config {
	return Config{
		Exact: ExactConfig{Enabled: true, Fields: []string{FieldSystemPrompt, FieldQuestion, FieldResponse}},
		Near: NearConfig{
			Enabled:   true,
			Fields:    []string{FieldQuestion, FieldResponse},
			NGram:     5,
			Threshold: 0.8,
			NumPerm:   1024,
			Bands:     10,
			Rows:      5,
			SigBits:   2,
			Seed:      42,

			MaxShingleDF:   8,
			DFFields:       []string{FieldQuestion},
			TemplateSample: 6,
		},
	}
}

func checkFields(names []string, key string) error {
	if len(names) == 0 {
		return fmt.Errorf("%s: empty list (want some of system_prompt, question, response)", key)
	}
	seen := map[string]bool{}
	for _, n := range names {
		switch n {
		case FieldSystemPrompt, FieldQuestion, FieldResponse:
		default:
			return fmt.Errorf("%s: unknown field %q (want system_prompt, question or response)", key, n)
		}
		if seen[n] {
			return fmt.Errorf("%s: field %q listed twice", key, n)
		}
		seen[n] = true
	}
	return nil
}

// Validate reports the first invalid setting, naming its key.
func (c Config) Validate() error {
	if c.Exact.Enabled {
		if err := checkFields(c.Exact.Fields, "dedupe.exact.fields"); err != nil {
			return err
		}
	}
	if c.Near.Enabled {
		return c.Near.Validate()
	}
	return nil
}

// Validate reports the first invalid near-dedupe setting, naming its key.
func (n NearConfig) Validate() error {
	if err := checkFields(n.Fields, "dedupe.near.fields"); err != nil {
		return err
	}
	switch {
	case n.NGram < 1 || n.NGram > 16:
		return fmt.Errorf("dedupe.near.ngram: must be 1..16, got %d", n.NGram)
	case !(n.Threshold > 0 && n.Threshold <= 1):
		return fmt.Errorf("dedupe.near.threshold: must be in (0,1], got %g", n.Threshold)
	case n.ConfirmThreshold < 0 || n.ConfirmThreshold > 1:
		return fmt.Errorf("dedupe.near.confirm_threshold: must be in [0,1] (0 = automatic), got %g", n.ConfirmThreshold)
	case n.NumPerm < 64 || n.NumPerm > 4096 || n.NumPerm&(n.NumPerm-1) != 0:
		return fmt.Errorf("dedupe.near.num_perm: must be a power of two in 64..4096, got %d", n.NumPerm)
	case n.Bands < 1 || n.Rows < 1 || n.Bands*n.Rows > min(256, n.NumPerm):
		return fmt.Errorf("dedupe.near.bands × rows: need bands, rows >= 1 and bands*rows <= %d, got %d × %d", min(256, n.NumPerm), n.Bands, n.Rows)
	}
	switch n.SigBits {
	case 2, 4, 8:
	default:
		return fmt.Errorf("dedupe.near.sig_bits: must be 2, 4 or 8, got %d", n.SigBits)
	}
	if n.Bands > 64 {
		return fmt.Errorf("dedupe.near.bands: at most 64, got %d", n.Bands)
	}
	if n.MaxShingleDF < 0 || n.MaxShingleDF > 254 {
		return fmt.Errorf("dedupe.near.max_shingle_df: must be 0 (off) .. 254, got %d", n.MaxShingleDF)
	}
	if n.MaxShingleDF > 0 {
		if err := checkFields(n.DFFields, "dedupe.near.df_fields"); err != nil {
			return err
		}
	}
	if n.TemplateSample < 0 || n.TemplateSample > 1<<16 {
		return fmt.Errorf("dedupe.near.template_sample: must be 0 (drop all template shingles) .. 65536, got %d", n.TemplateSample)
	}
	if n.DFSketchMB < 0 || n.DFSketchMB > 1<<16 {
		return fmt.Errorf("dedupe.near.df_sketch_mb: must be 0 (auto) .. 65536, got %d", n.DFSketchMB)
	}
	return nil
}

// EffectiveConfirmThreshold is the estimated-Jaccard cut-off used to confirm candidates.
func (n NearConfig) EffectiveConfirmThreshold() float64 {
	if n.ConfirmThreshold > 0 {
		return n.ConfirmThreshold
	}
	return n.Threshold - 1.5*EstimatorStdDev(n.Threshold, n.NumPerm, n.SigBits)
}

// EstimatorStdDev is the standard deviation of the Jaccard estimate at true Jaccard j with k bins of b-bit codes
// (code 0 marks an empty bin, so different minima collide with probability c = 1/(2^b−1)), treating the k bins
// as independent samples. It over-states the error for rows with fewer shingles than bins, where the estimate
// is closer to a census than a sample.
func EstimatorStdDev(j float64, k, b int) float64 {
	c := 1 / (math.Ldexp(1, b) - 1)
	p := j + (1-j)*c
	return math.Sqrt(p*(1-p)/float64(k)) / (1 - c)
}

// CandidateProbability is the LSH S-curve: the chance that two rows of Jaccard s share at least one band.
func CandidateProbability(s float64, bands, rows int) float64 {
	return 1 - math.Pow(1-math.Pow(s, float64(rows)), float64(bands))
}
