package synth

import (
	"fmt"
	"math"
)

// Defect kinds used in Label.Kinds. A row has exactly one kind: "clean" or one defect.
const (
	KindClean              = "clean"
	KindExactDuplicate     = "exact_duplicate"      // same system_prompt+question+response as an earlier row, new id
	KindNearDuplicate      = "near_duplicate"       // an earlier row's question+response with a few words changed (word 5-gram Jaccard ≥ 0.8)
	KindDuplicateID        = "duplicate_id"         // new content under the id of an earlier row
	KindEmptyQuestion      = "empty_question"       // question is "" (not NULL)
	KindEmptyResponse      = "empty_response"       // response is "" (not NULL)
	KindWhitespaceResponse = "whitespace_response"  // response is only ASCII whitespace
	KindRefusalOpening     = "refusal_opening"      // response opens with a refusal or AI self-disclaimer
	KindRefusalMid         = "refusal_mid"          // a real answer with a first-person AI disclaimer inside it
	KindMentionsAIQuestion = "mentions_ai_question" // hard negative: the question is about AI / language models; keep it
	KindDiscussesAIAnswer  = "discusses_ai_answer"  // hard negative: the answer discusses language models factually; keep it
	KindNonASCII           = "non_ascii"            // contains characters outside ASCII and ’ – “ ” —
	KindHuge               = "huge"                 // question+response of 80k–100k characters
	KindNullSystemPrompt   = "null_system_prompt"   // system_prompt is a Parquet NULL
	KindNullResponse       = "null_response"        // response is a Parquet NULL
	KindSpecialTokenText   = "special_token_text"   // literal <|im_start|> / <|im_end|> text in question or response
	KindInvalidUTF8        = "invalid_utf8"         // question or response holds bytes that are not valid UTF-8
)

// Kinds lists every label kind in a fixed order (reports iterate it for stable output).
var Kinds = []string{
	KindClean, KindExactDuplicate, KindNearDuplicate, KindDuplicateID, KindEmptyQuestion, KindEmptyResponse,
	KindWhitespaceResponse, KindRefusalOpening, KindRefusalMid, KindMentionsAIQuestion, KindDiscussesAIAnswer,
	KindNonASCII, KindHuge, KindNullSystemPrompt, KindNullResponse, KindSpecialTokenText, KindInvalidUTF8,
}

// Config says how many rows to make, from which seed, and how often each defect appears.
// Rates are fractions of Rows; the number of rows of each defect kind is exactly round(rate×Rows)
// (a duplicate kind needs an earlier clean row to copy, so in files of a handful of rows a few may be missing).
type Config struct {
	Rows int
	Seed uint64

	ExactDuplicateRate     float64
	NearDuplicateRate      float64
	DuplicateIDRate        float64
	EmptyQuestionRate      float64
	EmptyResponseRate      float64
	WhitespaceResponseRate float64
	RefusalOpeningRate     float64
	RefusalMidRate         float64
	MentionsAIQuestionRate float64
	DiscussesAIAnswerRate  float64
	NonASCIIRate           float64
	HugeRate               float64
	NullSystemPromptRate   float64
	NullResponseRate       float64
	SpecialTokenTextRate   float64
	// InvalidUTF8Rate is 0 by default because most Parquet writers refuse invalid UTF-8 in a string column;
	// parquet-go (used by WriteParquet) writes the raw bytes.
	InvalidUTF8Rate float64

	// Lengths are log-normal: median characters and sigma of the natural log. Non-huge rows are capped at
	// MaxFieldChars per field; huge rows are 80k–100k characters.
	QuestionMedianChars float64
	ResponseMedianChars float64
	LengthSigma         float64
	MaxFieldChars       int
}

// DefaultConfig returns the defect rates and length distribution used for fixtures and benchmarks:
// about 6.9% of rows carry a defect, and the median row (question+response) is about 600 characters.
func DefaultConfig(rows int, seed uint64) Config {
	return Config{
		Rows:                   rows,
		Seed:                   seed,
		ExactDuplicateRate:     0.010,
		NearDuplicateRate:      0.010,
		DuplicateIDRate:        0.002,
		EmptyQuestionRate:      0.002,
		EmptyResponseRate:      0.003,
		WhitespaceResponseRate: 0.002,
		RefusalOpeningRate:     0.008,
		RefusalMidRate:         0.005,
		MentionsAIQuestionRate: 0.004,
		DiscussesAIAnswerRate:  0.004,
		NonASCIIRate:           0.010,
		HugeRate:               0.0005,
		NullSystemPromptRate:   0.002,
		NullResponseRate:       0.002,
		SpecialTokenTextRate:   0.002,
		QuestionMedianChars:    250,
		ResponseMedianChars:    150,
		LengthSigma:            1.0,
		MaxFieldChars:          40000,
	}
}

// rates returns (kind, rate) for every defect kind, in Kinds order.
func (c Config) rates() []kindRate {
	return []kindRate{
		{KindExactDuplicate, c.ExactDuplicateRate},
		{KindNearDuplicate, c.NearDuplicateRate},
		{KindDuplicateID, c.DuplicateIDRate},
		{KindEmptyQuestion, c.EmptyQuestionRate},
		{KindEmptyResponse, c.EmptyResponseRate},
		{KindWhitespaceResponse, c.WhitespaceResponseRate},
		{KindRefusalOpening, c.RefusalOpeningRate},
		{KindRefusalMid, c.RefusalMidRate},
		{KindMentionsAIQuestion, c.MentionsAIQuestionRate},
		{KindDiscussesAIAnswer, c.DiscussesAIAnswerRate},
		{KindNonASCII, c.NonASCIIRate},
		{KindHuge, c.HugeRate},
		{KindNullSystemPrompt, c.NullSystemPromptRate},
		{KindNullResponse, c.NullResponseRate},
		{KindSpecialTokenText, c.SpecialTokenTextRate},
		{KindInvalidUTF8, c.InvalidUTF8Rate},
	}
}

type kindRate struct {
	kind string
	rate float64
}

// ExpectedCount returns how many rows of kind a generated file holds: round(rate×Rows) for a defect kind,
// the rest for "clean". Tests and fixture scripts use it instead of recomputing the rounding.
func (c Config) ExpectedCount(kind string) int {
	total := 0
	for _, kr := range c.rates() {
		n := int(math.Round(kr.rate * float64(c.Rows)))
		if kr.kind == kind {
			return n
		}
		total += n
	}
	if kind == KindClean {
		return c.Rows - total
	}
	return 0
}

// Validate reports a configuration that cannot be generated.
func (c Config) Validate() error {
	if c.Rows < 0 {
		return fmt.Errorf("synth: rows must be ≥ 0, got %d", c.Rows)
	}
	sum := 0.0
	for _, kr := range c.rates() {
		if kr.rate < 0 || kr.rate > 1 || math.IsNaN(kr.rate) {
			return fmt.Errorf("synth: %s rate must be in [0,1], got %v", kr.kind, kr.rate)
		}
		sum += kr.rate
	}
	if sum > 0.5 {
		return fmt.Errorf("synth: defect rates add up to %.3f; at most 0.5 is supported so that duplicates have clean rows to copy", sum)
	}
	if c.QuestionMedianChars <= 0 || c.ResponseMedianChars <= 0 || c.LengthSigma < 0 || c.MaxFieldChars < 100 {
		return fmt.Errorf("synth: length settings out of range (medians > 0, sigma ≥ 0, max field ≥ 100)")
	}
	return nil
}

// Label says what one generated row is. Row is its 0-based position in the file (ids are not unique when
// duplicate_id rows are present). DupOf names the earlier row a duplicate copies; with duplicate ids it names
// the FIRST row carrying that id.
type Label struct {
	ID    string   `json:"id"`
	Row   int64    `json:"row"`
	Kinds []string `json:"kinds"`
	DupOf string   `json:"dup_of,omitempty"`
}
