package orca

import "strings"

// Record is one OpenOrca row. A NULL in any column is read as "" and flagged in Nulls,
// because downstream stages treat a missing string and an empty one alike but the ledger counts NULLs.
type Record struct {
	ID           string
	SystemPrompt string
	Question     string
	Response     string
	// Nulls has a bit per column (NullID, NullSystemPrompt, NullQuestion, NullResponse) set when it was NULL.
	Nulls uint8
	// File is the index of the input file the row came from (in the order inputs were given).
	File int
	// Row is the row's 0-based position within its file.
	Row int64
}

// Bits of Record.Nulls.
const (
	NullID uint8 = 1 << iota
	NullSystemPrompt
	NullQuestion
	NullResponse
)

// Column names of the OpenOrca schema, in file order.
const (
	ColID           = "id"
	ColSystemPrompt = "system_prompt"
	ColQuestion     = "question"
	ColResponse     = "response"
)

// Columns lists the four string columns every OpenOrca Parquet file must have.
var Columns = []string{ColID, ColSystemPrompt, ColQuestion, ColResponse}

// Submix names: the FLAN sub-collection a question came from, taken from the id prefix.
const (
	SubmixCoT   = "cot"
	SubmixFlan  = "flan"
	SubmixNIV   = "niv"
	SubmixT0    = "t0"
	SubmixOther = "other"
)

// Submixes lists the four known submixes in a fixed order (reports iterate it for stable output).
var Submixes = []string{SubmixCoT, SubmixFlan, SubmixNIV, SubmixT0}

// SubmixOf returns the submix named by the id prefix before the first dot ("flan.564327" → "flan"),
// or "other" when the prefix is not one of the four FLAN submixes.
func SubmixOf(id string) string {
	prefix := id
	if i := strings.IndexByte(id, '.'); i >= 0 {
		prefix = id[:i]
	}
	switch prefix {
	case SubmixCoT, SubmixFlan, SubmixNIV, SubmixT0:
		return prefix
	}
	return SubmixOther
}

// Submix returns the record's submix.
func (r *Record) Submix() string { return SubmixOf(r.ID) }
