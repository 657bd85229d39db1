package filter

import "strings"

// asksForContent reports whether a question asks for text in a persona or in the first person: a review, an
// email, a letter, a story, a tweet, a dialogue, a diary entry…, a translation, the continuation of a text, or
// role-play. In such text "I'm sorry, but I can't make it on Friday" or "Unfortunately, I cannot recommend
// this restaurant" is what was asked for, not the assistant declining, so only strict phrases (AI
// self-disclaimers) apply to its answer. It is a word scan over the question, run at most once per row and
// only when a non-strict phrase has matched the response, so it costs nothing on the keep path.
func asksForContent(q string) bool {
	// The request is in the instruction, which OpenOrca puts in the question's first line ("Write a negative
	// review.", "Translate to German:", niv's "Detailed Instructions: …") or its last line ("… Continue the
	// story."); the passage in between is not scanned, so an article that mentions "to write a story" does not
	// turn an assistant's refusal into content.
	head := q
	if i := strings.IndexByte(q, '\n'); i >= 0 {
		head = q[:i]
	}
	if len(head) > 1200 {
		head = head[:1200]
	}
	tail := "" // a closing instruction is a short last line; a long one is the passage itself
	if i := strings.LastIndexByte(q, '\n'); i >= 0 && i+1 < len(q) && len(q)-i-1 <= 200 {
		tail = q[i+1:]
	}
	return instructionAsksForContent(head) || tail != "" && instructionAsksForContent(tail)
}

func instructionAsksForContent(q string) bool {
	var w [64]byte
	lastVerb := -100 // token index of the last writing verb
	lastExample := -100
	translate := -100 // token index of a "translate" that needs its object to count
	prev := ""
	tok := 0
	for i := 0; i <= len(q); i++ {
		var c byte = ' '
		if i < len(q) {
			c = q[i]
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c >= 'a' && c <= 'z' || c == '-' || c == '\'' {
			if n := int(w[63]); n < 62 {
				w[n] = c
				w[63]++
			}
			continue
		}
		n := int(w[63])
		if n == 0 {
			continue
		}
		word := string(w[:n]) // small; only built on this slow path
		w[63] = 0
		switch word {
		case "roleplay", "role-play", "pretend", "pretending", "persona", "impersonate", "impersonating",
			"monologue", "diary", "first-person", "continuation", "paraphrase":
			return true
		case "translate", "translation":
			// "Translate to German:", "Translate the following…", "Translation:" — not "the firm will translate…"
			if tok == 0 || word == "translation" && (prev == "a" || prev == "the" || prev == "your") {
				return true
			}
			translate = tok
		case "to", "into", "from", "this", "these", "it", "each", "in":
			if translate == tok-1 {
				return true
			}
		case "writing", "following", "story", "text", "sentence", "passage", "dialogue", "conversation":
			if prev == "continue" {
				return true
			}
			if word == "writing" {
				lastVerb = tok
			}
			if tok-lastVerb <= 8 && word != "following" && word != "passage" {
				return true
			}
		case "next":
			if prev == "happens" {
				return true
			}
			lastVerb = tok // "the next sentence", "write the next line"
		case "person":
			if prev == "first" {
				return true
			}
		case "play":
			if prev == "role" {
				return true
			}
		case "as":
			if prev == "act" {
				return true
			}
		case "you":
			if prev == "imagine" {
				return true
			}
		case "the":
			if prev == "complete" || prev == "finish" || prev == "voice" || translate == tok-1 {
				return true
			}
		case "of":
			if prev == "example" {
				lastExample = tok
			}
			if prev == "voice" {
				return true
			}
		case "write", "compose", "composing", "draft", "generate", "generating", "continue",
			"create", "produce", "craft", "pen":
			lastVerb = tok
		case "review", "reviews", "email", "e-mail", "emails", "mail", "letter", "letters", "stories",
			"tweet", "tweets", "dialog", "dialogues", "journal", "poem", "poems",
			"speech", "blog", "post", "message", "note", "essay", "script", "scene", "song", "lyrics", "reply",
			"response", "comment", "memo", "apology", "sms", "article", "paragraph", "narrative",
			"testimonial", "complaint", "rant", "chat", "entry", "bio", "line", "event":
			if tok-lastVerb <= 8 || tok-lastExample <= 4 {
				return true
			}
		}
		prev = word
		tok++
	}
	return false
}
