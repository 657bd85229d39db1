package stats

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/zeebo/xxh3"
)

// Observation is what the pipeline knows about one input row once its fate is decided.
type Observation struct {
	ID, Submix, SystemPrompt string
	// Lengths in characters (runes). SampleChars is the rendered ChatML sample; 0 when the row was not rendered.
	QuestionChars, ResponseChars, SampleChars int
	// Tokens is the sample's token count, -1 when no tokenizer is configured.
	Tokens int
	Kept   bool
	// For dropped rows: the reason (as counted in the ledger), a detail such as the matched phrase,
	// and the id of the kept row this one duplicates.
	Reason, Detail, DuplicateOf string
}

// Limits that keep a Collector's memory bounded whatever the input.
const (
	// MaxGroups is how many distinct submixes or system prompts are tracked one by one; past that, rows of
	// the values with the largest hashes are counted under OtherGroup (see groups).
	MaxGroups = 1000
	// OtherGroup names the bucket of values beyond MaxGroups.
	OtherGroup = "(other)"
	// MaxGroupKeyBytes bounds a stored system prompt; longer prompts are keyed by a prefix plus their length and hash.
	MaxGroupKeyBytes = 1024
	// ExamplesPerReason is how many example rows are kept for each drop reason (the first ones in input order).
	ExamplesPerReason = 3
	// MaxDetailBytes bounds a stored example detail.
	MaxDetailBytes = 240
	// TopReasons is how many drop reasons Result lists (by count); the ledger has them all.
	TopReasons = 20
)

// Measure names, in report order.
const (
	MeasureQuestionChars = "question_chars"
	MeasureResponseChars = "response_chars"
	MeasureSampleChars   = "sample_chars"
	MeasureSampleTokens  = "sample_tokens"
)

// Measures lists the length measures in report order.
var Measures = []string{MeasureQuestionChars, MeasureResponseChars, MeasureSampleChars, MeasureSampleTokens}

// Row sets of a length distribution.
const (
	RowsKept = "kept"
	RowsAll  = "all"
)

type groupCounts struct {
	hash       uint64 // xxh3 of the value: decides which values are tracked once there are too many
	read, kept int64
	charsKept  int64 // Σ sample chars of kept rows
	tokensKept int64 // Σ tokens of kept rows that were tokenized
}

// groups counts rows per value of a field. Past MaxGroups distinct values it tracks the MaxGroups values
// with the smallest hashes and counts the rest under other. That rule, unlike "the first N seen", does not
// depend on the order rows arrive in, so merging collectors of any partition of the rows gives exactly
// what one collector would: a value outside the global smallest-N is outside every partial smallest-N too.
// OpenOrca has a few dozen distinct system prompts, so in practice every value is tracked.
type groups struct {
	m       map[string]*groupCounts
	other   groupCounts
	full    bool   // some value was counted under other
	maxHash uint64 // largest hash in m, valid when len(m) == MaxGroups
}

// get returns the counts to add a row of value key to.
func (g *groups) get(key string) *groupCounts {
	if c := g.m[key]; c != nil {
		return c
	}
	return g.insert(key, &groupCounts{hash: xxh3.HashString(key)})
}

// insert adds c for a value not in m, evicting the largest hash into other if m is full; it returns the
// counts the caller should add to (c, or other when c itself is not kept).
func (g *groups) insert(key string, c *groupCounts) *groupCounts {
	if g.m == nil {
		g.m = map[string]*groupCounts{}
	}
	if len(g.m) < MaxGroups {
		g.m[strings.Clone(key)] = c
		if len(g.m) == MaxGroups {
			g.recomputeMax()
		}
		return c
	}
	g.full = true
	if c.hash >= g.maxHash {
		g.other.add(c)
		return &g.other
	}
	for k, v := range g.m {
		if v.hash == g.maxHash {
			g.other.add(v)
			delete(g.m, k)
			break
		}
	}
	g.m[strings.Clone(key)] = c
	g.recomputeMax()
	return c
}

func (g *groups) recomputeMax() {
	g.maxHash = 0
	for _, v := range g.m {
		g.maxHash = max(g.maxHash, v.hash)
	}
}

func (c *groupCounts) add(o *groupCounts) {
	c.read += o.read
	c.kept += o.kept
	c.charsKept += o.charsKept
	c.tokensKept += o.tokensKept
}

// merge folds in o (rows of any other part of the input).
func (g *groups) merge(o *groups) {
	g.other.add(&o.other)
	g.full = g.full || o.full
	for k, oc := range o.m {
		if c := g.m[k]; c != nil {
			c.add(oc)
			continue
		}
		cp := *oc
		g.insert(k, &cp)
	}
}

type example struct {
	ID, Detail, DuplicateOf string
}

type reasonStats struct {
	count    int64
	examples []example
}

// Collector gathers the distributions of one stream of rows. It is not safe for concurrent use: give each
// goroutine its own and Merge them. Its memory is bounded (fixed-size histograms, at most MaxGroups groups,
// ExamplesPerReason examples per reason) except for the duplicate-cluster table derived from DuplicateOf,
// which has one small entry per kept row that has duplicates (see ObserveCluster to avoid it).
type Collector struct {
	rows     int64
	kept     int64
	tokRows  int64 // rows with Tokens ≥ 0
	submix   groups
	system   groups
	lengths  [2][4]histogram // [all, kept][measure]
	reasons  map[string]*reasonStats
	dupOf    map[string]int64 // canonical id → duplicates seen (derived cluster sizes)
	clusters map[int64]int64  // cluster size → clusters, from ObserveCluster
}

// NewCollector returns an empty collector.
func NewCollector() *Collector {
	return &Collector{reasons: map[string]*reasonStats{}, dupOf: map[string]int64{}, clusters: map[int64]int64{}}
}

// Observe counts one row. Rows dropped as ReasonNotSelected (rows of files or submixes outside the
// selection, often read without their text) count in the per-submix and per-prompt tables and in the drop
// reasons but not in the length distributions, which describe the rows the recipe actually considered.
func (c *Collector) Observe(o *Observation) {
	c.rows++
	sm := c.submix.get(o.Submix)
	sp := c.system.get(promptKey(o.SystemPrompt))
	sm.read++
	sp.read++
	if o.Kept {
		c.kept++
		for _, g := range []*groupCounts{sm, sp} {
			g.kept++
			g.charsKept += int64(o.SampleChars)
			if o.Tokens >= 0 {
				g.tokensKept += int64(o.Tokens)
			}
		}
	} else {
		reason := o.Reason
		if reason == "" {
			reason = "unknown"
		}
		r := c.reasons[reason]
		if r == nil {
			r = &reasonStats{}
			c.reasons[strings.Clone(reason)] = r
		}
		r.count++
		if len(r.examples) < ExamplesPerReason {
			r.examples = append(r.examples, example{ID: strings.Clone(o.ID), Detail: clip(o.Detail, MaxDetailBytes), DuplicateOf: strings.Clone(o.DuplicateOf)})
		}
		if o.DuplicateOf != "" {
			if _, ok := c.dupOf[o.DuplicateOf]; !ok {
				c.dupOf[strings.Clone(o.DuplicateOf)] = 0
			}
			c.dupOf[o.DuplicateOf]++
		}
	}
	if o.Tokens >= 0 {
		c.tokRows++
	}
	if o.Reason == ReasonNotSelected && !o.Kept {
		return
	}
	sets := []int{0}
	if o.Kept {
		sets = append(sets, 1)
	}
	for _, s := range sets {
		h := &c.lengths[s]
		h[0].add(int64(o.QuestionChars))
		h[1].add(int64(o.ResponseChars))
		if o.SampleChars > 0 {
			h[2].add(int64(o.SampleChars))
		}
		if o.Tokens >= 0 {
			h[3].add(int64(o.Tokens))
		}
	}
}

// ObserveCluster records one duplicate cluster of size rows (the kept row and its duplicates). When the
// dedupe stage reports clusters this way, Result uses these sizes instead of deriving them from DuplicateOf.
func (c *Collector) ObserveCluster(size int) {
	if size < 1 {
		return
	}
	c.clusters[int64(size)]++
}

// Merge folds in o, which must not be used afterwards. Counts, histograms, groups and clusters do not
// depend on order, so merging collectors of any partition of the rows equals one collector that saw them
// all. The drop-reason examples are the first ones in input order only when o's rows follow c's
// (per-worker collectors over consecutive ranges, merged in range order); otherwise they are c's first.
func (c *Collector) Merge(o *Collector) {
	c.rows += o.rows
	c.kept += o.kept
	c.tokRows += o.tokRows
	c.submix.merge(&o.submix)
	c.system.merge(&o.system)
	for s := range c.lengths {
		for m := range c.lengths[s] {
			c.lengths[s][m].merge(&o.lengths[s][m])
		}
	}
	for k, or := range o.reasons {
		r := c.reasons[k]
		if r == nil {
			c.reasons[k] = or
			continue
		}
		r.count += or.count
		for _, e := range or.examples {
			if len(r.examples) >= ExamplesPerReason {
				break
			}
			r.examples = append(r.examples, e)
		}
	}
	for k, n := range o.dupOf {
		c.dupOf[k] += n
	}
	for k, n := range o.clusters {
		c.clusters[k] += n
	}
}

// promptKey bounds the memory of a system prompt kept as a map key.
func promptKey(s string) string {
	if len(s) <= MaxGroupKeyBytes {
		return s
	}
	return fmt.Sprintf("%s… [%d bytes, xxh3 %016x]", clip(s, MaxGroupKeyBytes-64), len(s), xxh3.HashString(s))
}

// clip returns a copy of at most n bytes of s, cut at a rune boundary, marked with … when cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return strings.Clone(s)
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.Clone(s[:cut]) + "…"
}
