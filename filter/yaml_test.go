package filter

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestYAMLKeys decodes a filters section that sets every key, strictly (as the lead's config loader does),
// over the defaults, and checks that omitted keys keep their defaults.
func TestYAMLKeys(t *testing.T) {
	src := `
empty_question: {enabled: true}
empty_response: {enabled: false}
special_token_text: {enabled: true, tokens: ["<|im_end|>"], fields: [response]}
system_prompt: {enabled: true, rules: [{submixes: [niv], prompts: [""]}]}
non_ascii: {enabled: true, allow: "’", fields: [question]}
length: {enabled: true, system_prompt: {min: 0, max: 500}, question: {min: 1, max: 0}, response: {min: 1, max: 9000}}
too_long: {enabled: true, max_chars: 50000, max_tokens: 16384}
short_response: {enabled: true, min_words: 2}
language: {enabled: true, fields: [response], min_words: 10, min_stopword_ratio: 0.1, max_non_latin_ratio: 0.2}
regex: {enabled: true, include: {id: ["^flan"]}, exclude: {response: ["(?i)lorem"]}}
refusal: {enabled: true, extra_phrases: ["beep boop"], disable_phrases: ["^sorry ~lim2"]}
`
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.EmptyResponse.Enabled || cfg.Length.Response.Max != 9000 || cfg.Regex.Exclude["response"][0] != "(?i)lorem" || cfg.Language.MinWords != 10 {
		t.Errorf("decoded %+v", cfg)
	}
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
	partial := DefaultConfig()
	if err := yaml.Unmarshal([]byte("refusal: {enabled: true}\n"), &partial); err != nil {
		t.Fatal(err)
	}
	if len(partial.SpecialTokenText.Tokens) != 4 || partial.NonASCII.Allow != "’–“”—" {
		t.Errorf("omitted keys lost their defaults: %+v", partial)
	}
	bad := yaml.NewDecoder(strings.NewReader("refusal: {enabled: true, phrases: [x]}\n"))
	bad.KnownFields(true)
	if err := bad.Decode(&partial); err == nil {
		t.Errorf("unknown key refusal.phrases accepted")
	}
}
