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

// NearConfig configures MinHash-LSH near-duplicate removal over word k-grams (MinNGram <= k <= NGram) of the
// distinguishing content of Fields (README.md, "Templates" and "The rule").
type NearConfig struct {
	Enabled bool     `yaml:"enabled" json:"enabled"`
	Fields  []string `yaml:"fields" json:"fields"`
	// MinNGram..NGram are the word k-gram sizes the signature is taken over: 1..2 = the words and word pairs
	// of the distinguishing content, so that one changed word in a 20-word input moves the similarity by
	// about 3 of 39 elements rather than 5 of 16 5-grams. min_ngram: 5, ngram: 5 is the classic 5-gram rule.
	NGram    int `yaml:"ngram" json:"ngram"`
	MinNGram int `yaml:"min_ngram" json:"min_ngram"`
	// Threshold is the Jaccard similarity of the two rows' element sets at and above which a row is a near
	// duplicate.
	Threshold float64 `yaml:"threshold" json:"threshold"`
	// ConfirmThreshold is the estimated Jaccard a candidate must reach to be dropped. 0 (the default) sets it
	// to Threshold minus 1.5 standard deviations of the estimator at Threshold, so that pairs at the threshold
	// are still caught (recall) while pairs well below it are not (see README.md).
	ConfirmThreshold float64 `yaml:"confirm_threshold" json:"confirm_threshold"`
	// Containment makes a row a near duplicate also when at least this share of the smaller element set is in
	// the larger one and the rows' word counts differ by at most MaxGrowth of the longer row: a copy with a
	// few percent of the row cut or added, where the cut or the addition hit a short distinguishing part
	// (README.md). 0 turns the clause off.
	Containment float64 `yaml:"containment" json:"containment"`
	MaxGrowth   float64 `yaml:"max_growth" json:"max_growth"`
	// ResponseJaccard and ResponseContainment are a further condition when response is one of Fields: the
	// two responses' own element sets must reach one of them (Jaccard, or containment of the smaller), so
	// that rows sharing an input but answering differently (another task on the same passage, another
	// question about it) are not near duplicates however long the shared input. 0 and 0 turn it off.
	ResponseJaccard     float64 `yaml:"response_jaccard" json:"response_jaccard"`
	ResponseContainment float64 `yaml:"response_containment" json:"response_containment"`
	// TemplateContainment is a further condition when templates are on and both rows have template
	// shingles: the smaller of the two sets must be contained in the larger at least this much, so rows of
	// different templates are never near duplicates because their short answers agree. Edits keep it near
	// 1: an edited template shingle simply leaves the set. 0 turns it off.
	TemplateContainment float64 `yaml:"template_containment" json:"template_containment"`
	// NumPerm is the number of MinHash values (one-permutation-hashing bins); a power of two.
	NumPerm int `yaml:"num_perm" json:"num_perm"`
	// Bands × Rows of the signature feed the LSH index (Bands*Rows <= NumPerm).
	Bands int `yaml:"bands" json:"bands"`
	Rows  int `yaml:"rows" json:"rows"`
	// SigBits is how many low bits of each MinHash value are kept per row for confirming candidates
	// (b-bit MinHash): 2, 4 or 8.
	SigBits int `yaml:"sig_bits" json:"sig_bits"`
	// Seed makes the hash family; the same seed gives the same result on every machine.
	Seed uint64 `yaml:"seed" json:"seed"`
	// MaxShingleDF makes near-dedupe template-aware: a first read of the input counts in how many rows each
	// DFNGram-word shingle of DFFields occurs, and words covered by a shingle found in more than MaxShingleDF
	// rows (a task definition, a prompt template) do not count as what makes a row distinct (README.md,
	// "Templates"). 0 turns it off (one read; every word counts).
	MaxShingleDF int `yaml:"max_shingle_df" json:"max_shingle_df"`
	// DFNGram is the shingle length, in words, that finds template text (long enough that ordinary phrases
	// are not template).
	DFNGram int `yaml:"df_ngram" json:"df_ngram"`
	// DFFields are the fields whose shingles are counted in the first read (templates live in the question).
	DFFields []string `yaml:"df_fields" json:"df_fields"`
	// DFSketchMB is the document-frequency sketch's size; 0 = 64 bytes per selected input row (power of two).
	DFSketchMB int `yaml:"df_sketch_mb" json:"df_sketch_mb"`
}

// Field names usable in fields lists.
const (
	FieldSystemPrompt = "system_prompt"
	FieldQuestion     = "question"
	FieldResponse     = "response"
)

// DefaultConfig returns the defaults: exact on (system_prompt, question, response); near on
// (question, response): template-aware (5-gram document frequency > 8), words and word pairs of the
// distinguishing content, Jaccard 0.8 or containment 0.9 within 15% of the row's length, responses at
// Jaccard 0.5 or containment 0.8, 1024
// one-permutation-hashing bins kept as 2-bit codes, 20 bands × 3 rows.
func DefaultConfig() Config {
	return Config{
		Exact: ExactConfig{Enabled: true, Fields: []string{FieldSystemPrompt, FieldQuestion, FieldResponse}},
		Near: NearConfig{
			Enabled:     true,
			Fields:      []string{FieldQuestion, FieldResponse},
			NGram:       2,
			MinNGram:    1,
			Threshold:   0.8,
			Containment: 0.9,
			MaxGrowth:   0.15,

			ResponseJaccard:     0.5,
			ResponseContainment: 0.8,
			TemplateContainment: 0.5,
			NumPerm:             1024,
			Bands:               20,
			Rows:                3,
			SigBits:             2,
			Seed:                42,

			MaxShingleDF: 8,
			DFNGram:      5,
			DFFields:     []string{FieldQuestion},
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
	case n.MinNGram < 1 || n.MinNGram > n.NGram:
		return fmt.Errorf("dedupe.near.min_ngram: must be 1..ngram (%d), got %d", n.NGram, n.MinNGram)
	case n.Containment < 0 || n.Containment > 1:
		return fmt.Errorf("dedupe.near.containment: must be in [0,1] (0 = off), got %g", n.Containment)
	case n.MaxGrowth < 0 || n.MaxGrowth > 1:
		return fmt.Errorf("dedupe.near.max_growth: must be in [0,1], got %g", n.MaxGrowth)
	case n.ResponseJaccard < 0 || n.ResponseJaccard > 1:
		return fmt.Errorf("dedupe.near.response_jaccard: must be in [0,1] (0 = off), got %g", n.ResponseJaccard)
	case n.ResponseContainment < 0 || n.ResponseContainment > 1:
		return fmt.Errorf("dedupe.near.response_containment: must be in [0,1] (0 = off), got %g", n.ResponseContainment)
	case n.TemplateContainment < 0 || n.TemplateContainment > 1:
		return fmt.Errorf("dedupe.near.template_containment: must be in [0,1] (0 = off), got %g", n.TemplateContainment)
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
		if n.DFNGram < 2 || n.DFNGram > 16 {
			return fmt.Errorf("dedupe.near.df_ngram: must be 2..16, got %d", n.DFNGram)
		}
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

// EffectiveConfirmContainment is the estimated containment a candidate must reach (with the word-count
// condition) to be dropped: Containment lowered by the same margin as the Jaccard confirm threshold.
func (n NearConfig) EffectiveConfirmContainment() float64 {
	if n.Containment == 0 {
		return 2 // off: never reached
	}
	return n.Containment - (n.Threshold - n.EffectiveConfirmThreshold())
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
