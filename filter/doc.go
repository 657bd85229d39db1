// Package filter drops OpenOrca rows that would hurt fine-tuning, each drop named by a reason
// (empty_question, empty_response, special_token_text, system_prompt, non_ascii, length, too_long,
// short_response, language, regex, refusal) and explained by a short detail.
//
// A Chain is compiled once from Config and is pure and safe for concurrent use: pipeline workers call
// Apply on their batches in parallel. The refusal filter is a single Aho-Corasick pass over the response
// with sentence anchoring and a short look-ahead per hit; its phrase set and syntax are documented in
// README.md next to this file.
package filter
