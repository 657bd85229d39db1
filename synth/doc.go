// Package synth generates deterministic OpenOrca-shaped rows with injected, labelled defects, for tests, demos and
// benchmarks of the curation pipeline when the real 1 GB+ Parquet files are not at hand.
//
// The same Config (including Seed) always yields byte-identical rows, labels and Parquet files: all randomness comes
// from one explicitly seeded math/rand/v2 PCG stream consumed in a fixed order.
//
// Text conventions the labels rely on: rows labelled only "clean" (and the hard negatives, refusals, duplicates, …)
// contain ASCII plus the five punctuation marks OpenOrca is full of and MLPerf's filter allows (’ – “ ” —); only rows
// labelled "non_ascii" contain any other non-ASCII character. Only rows labelled "special_token_text" contain the
// literal ChatML markers <|im_start|> / <|im_end|>. Only rows labelled "invalid_utf8" contain invalid UTF-8.
package synth
