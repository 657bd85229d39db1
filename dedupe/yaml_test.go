package dedupe

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestYAMLKeys(t *testing.T) {
	src := `
exact: {enabled: true, fields: [question, response]}
near: {enabled: true, fields: [response], ngram: 4, threshold: 0.85, confirm_threshold: 0.8, num_perm: 128, bands: 12, rows: 6, sig_bits: 4, seed: 7}
`
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	n := cfg.Near
	if n.NGram != 4 || n.NumPerm != 128 || n.Bands != 12 || n.Rows != 6 || n.SigBits != 4 || n.Seed != 7 || n.EffectiveConfirmThreshold() != 0.8 {
		t.Errorf("decoded %+v", n)
	}
	if _, err := NewIndex(cfg); err != nil {
		t.Fatal(err)
	}
}
