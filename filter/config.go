package filter

// Config is the `filters:` section of the orcaprep YAML config (JSON tags match, for the manifest). Start from DefaultConfig and decode over it,
// so keys a user leaves out keep their defaults. Every filter has an `enabled` flag; a disabled filter
// costs nothing at run time and emits no reason.
type Config struct {
	EmptyQuestion    Toggle                 `yaml:"empty_question" json:"empty_question"`
	EmptyResponse    Toggle                 `yaml:"empty_response" json:"empty_response"`
	SpecialTokenText SpecialTokenTextConfig `yaml:"special_token_text" json:"special_token_text"`
	SystemPrompt     SystemPromptConfig     `yaml:"system_prompt" json:"system_prompt"`
	NonASCII         NonASCIIConfig         `yaml:"non_ascii" json:"non_ascii"`
	Length           LengthConfig           `yaml:"length" json:"length"`
	TooLong          TooLongConfig          `yaml:"too_long" json:"too_long"`
	ShortResponse    ShortResponseConfig    `yaml:"short_response" json:"short_response"`
	Language         LanguageConfig         `yaml:"language" json:"language"`
	Regex            RegexConfig            `yaml:"regex" json:"regex"`
	Refusal          RefusalConfig          `yaml:"refusal" json:"refusal"`
}

// Toggle is a filter with no parameters.
type Toggle struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
}

// RefusalConfig configures the AI-disclaimer / refusal filter (response only). Phrase syntax: README.md.
type RefusalConfig struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// ExtraPhrases are added to the built-in set (same syntax: ^ anchor, (a|b|) groups, ~fpN / ~limN).
	ExtraPhrases []string `yaml:"extra_phrases" json:"extra_phrases"`
	// DisablePhrases removes built-in phrases, each given exactly as listed in README.md.
	DisablePhrases []string `yaml:"disable_phrases" json:"disable_phrases"`
}

// SpecialTokenTextConfig drops rows whose text contains literal control-token strings, which a tokenizer
// with those added tokens would turn into real control tokens inside the sample.
type SpecialTokenTextConfig struct {
	Enabled bool     `yaml:"enabled" json:"enabled"`
	Tokens  []string `yaml:"tokens" json:"tokens"`
	Fields  []string `yaml:"fields" json:"fields"`
}

// SystemPromptConfig drops submix + system-prompt combinations (MLPerf's OpenOrca recipe drops niv and t0
// rows whose system prompt is one of a few generic ones).
type SystemPromptConfig struct {
	Enabled bool               `yaml:"enabled" json:"enabled"`
	Rules   []SystemPromptRule `yaml:"rules" json:"rules"`
}

// SystemPromptRule drops a row when its submix (id prefix) is in Submixes (empty = any) and its
// system prompt, trimmed, equals one of Prompts ("" matches an empty prompt).
type SystemPromptRule struct {
	Submixes []string `yaml:"submixes" json:"submixes"`
	Prompts  []string `yaml:"prompts" json:"prompts"`
}

// NonASCIIConfig drops rows containing a non-ASCII rune that is not in Allow.
type NonASCIIConfig struct {
	Enabled bool     `yaml:"enabled" json:"enabled"`
	Allow   string   `yaml:"allow" json:"allow"`
	Fields  []string `yaml:"fields" json:"fields"`
}

// LengthConfig bounds each field's length in characters (runes); 0 means no bound.
type LengthConfig struct {
	Enabled      bool        `yaml:"enabled" json:"enabled"`
	SystemPrompt LengthRange `yaml:"system_prompt" json:"system_prompt"`
	Question     LengthRange `yaml:"question" json:"question"`
	Response     LengthRange `yaml:"response" json:"response"`
}

// LengthRange is an inclusive [Min, Max] character range; 0 disables a side.
type LengthRange struct {
	Min int `yaml:"min" json:"min"`
	Max int `yaml:"max" json:"max"`
}

// TooLongConfig drops a row whose whole sample is over budget: MaxChars over system_prompt+question+response
// runes (checked by Apply), MaxTokens over the rendered sample's token count (checked by ApplyTokens).
type TooLongConfig struct {
	Enabled   bool `yaml:"enabled" json:"enabled"`
	MaxChars  int  `yaml:"max_chars" json:"max_chars"`
	MaxTokens int  `yaml:"max_tokens" json:"max_tokens"`
}

// ShortResponseConfig drops responses with fewer than MinWords whitespace-separated words.
type ShortResponseConfig struct {
	Enabled  bool `yaml:"enabled" json:"enabled"`
	MinWords int  `yaml:"min_words" json:"min_words"`
}

// LanguageConfig is a cheap English check (no model): a field fails when more than MaxNonLatinRatio of its
// letters are outside the Latin script, or, with at least MinWords words, when it has more German, French,
// Spanish, Italian, Dutch or Portuguese function words than English ones, or when MinStopwordRatio > 0 and
// fewer than that share of its words are English function words (off by default: technical English and
// code score low).
type LanguageConfig struct {
	Enabled          bool     `yaml:"enabled" json:"enabled"`
	Fields           []string `yaml:"fields" json:"fields"`
	MinWords         int      `yaml:"min_words" json:"min_words"`
	MinStopwordRatio float64  `yaml:"min_stopword_ratio" json:"min_stopword_ratio"`
	MaxNonLatinRatio float64  `yaml:"max_non_latin_ratio" json:"max_non_latin_ratio"`
}

// RegexConfig keeps or drops rows by Go regular expressions (RE2 syntax) per field
// (id, system_prompt, question, response). A row must match at least one Include pattern of every field
// that has any, and must match no Exclude pattern.
type RegexConfig struct {
	Enabled bool                `yaml:"enabled" json:"enabled"`
	Include map[string][]string `yaml:"include" json:"include"`
	Exclude map[string][]string `yaml:"exclude" json:"exclude"`
}

// Field names usable in fields lists and regex maps.
const (
	FieldID           = "id"
	FieldSystemPrompt = "system_prompt"
	FieldQuestion     = "question"
	FieldResponse     = "response"
)

// MLPerf's system prompts for the niv/t0 drop rule (GH mlcommons/inference language/llama2-70b/processorca.py),
// numbered as in the Orca paper's Table 2.
const (
	orcaMsg1Curly = "You are an AI assistant. Provide a detailed answer so user don’t need to search outside to understand the answer."
	orcaMsg1ASCII = "You are an AI assistant. Provide a detailed answer so user don't need to search outside to understand the answer."
	orcaMsg4      = "You are an AI assistant that follows instruction extremely well. Help as much as you can."
	orcaMsg8      = "Explain how you used the definition to come up with the answer."
	orcaMsg11     = "User will you give you a task with some instruction. Your job is follow the instructions as faithfully as you can. While answering think step-by-step and justify your answer."
)

// DefaultConfig returns the LlongOrca recipe defaults: empty question/response, refusal and
// special-token-text filters on; every other filter off but pre-filled with its usual parameters
// (MLPerf's values where MLPerf has one) so enabling it is one line.
func DefaultConfig() Config {
	all := []string{FieldSystemPrompt, FieldQuestion, FieldResponse}
	return Config{
		EmptyQuestion: Toggle{Enabled: true},
		EmptyResponse: Toggle{Enabled: true},
		SpecialTokenText: SpecialTokenTextConfig{
			Enabled: true,
			Tokens:  []string{"<|im_start|>", "<|im_end|>", "<s>", "</s>"},
			Fields:  append([]string(nil), all...),
		},
		SystemPrompt: SystemPromptConfig{
			Rules: []SystemPromptRule{{
				Submixes: []string{"niv", "t0"},
				Prompts:  []string{"", orcaMsg4, orcaMsg1Curly, orcaMsg1ASCII, orcaMsg11, orcaMsg8},
			}},
		},
		NonASCII: NonASCIIConfig{Allow: "’–“”—", Fields: append([]string(nil), all...)},
		Length:   LengthConfig{},
		TooLong:  TooLongConfig{MaxChars: 64000, MaxTokens: 16384},
		ShortResponse: ShortResponseConfig{
			MinWords: 3,
		},
		Language: LanguageConfig{
			Fields:           []string{FieldQuestion, FieldResponse},
			MinWords:         12,
			MinStopwordRatio: 0,
			MaxNonLatinRatio: 0.3,
		},
		Regex:   RegexConfig{},
		Refusal: RefusalConfig{Enabled: true},
	}
}
