package dedupe

import (
	"os"
	"strconv"
	"testing"
)

func TestExplorePrecision(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	rows := makeNearCorpus(1, 1500, 1000)
	sets := make([]map[string]struct{}, len(rows))
	for i, c := range rows {
		sets[i] = refShingles(c.rec.Question, c.rec.Response)
	}
	idx := map[string]int{}
	for i, c := range rows {
		idx[c.rec.ID] = i
	}
	for _, k := range []int{256, 512, 1024} {
		for _, ct := range []float64{0, 0.765, 0.77, 0.775, 0.78} {
			cfg := DefaultConfig()
			cfg.Exact.Enabled = false
			cfg.Near.NumPerm = k
			cfg.Near.ConfirmThreshold = ct
			if v := os.Getenv("BITS"); v != "" {
				cfg.Near.SigBits, _ = strconv.Atoi(v)
			}
			ix, _ := NewIndex(cfg)
			sg := NewSigner(cfg.Near, nil)
			var sig []byte
			kept := map[int]bool{}
			drops, low, recN, recHit := 0, 0, 0, 0
			for i, c := range rows {
				best := 0.0
				if c.base >= 0 && kept[c.base] {
					best = jaccard(sets[i], sets[c.base])
				}
				sig = sg.Sign(&c.rec, sig)
				reason, dupOf, _ := ix.Check(c.rec.ID, Key{}, sig)
				if reason == "" {
					kept[i] = true
				} else {
					drops++
					if jaccard(sets[i], sets[idx[dupOf]]) < 0.75 {
						low++
					}
				}
				if best >= 0.8 {
					recN++
					if reason != "" {
						recHit++
					}
				}
			}
			t.Logf("k=%d confirm=%.3f (eff %.3f): drops %d, below .75: %d (%.2f%%), recall %.3f", k, ct, cfg.Near.EffectiveConfirmThreshold(), drops, low, 100*float64(low)/float64(drops), float64(recHit)/float64(recN))
		}
	}
}
