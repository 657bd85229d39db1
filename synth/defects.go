package synth

import (
	"fmt"
	"strings"
)

// Refusal text is assembled from parts so that the pipeline's detector (written independently) meets many
// phrasings rather than a handful of fixed strings: openers × refusal verbs × tasks × reasons × follow-ups.

var refusalOpeners = []string{
	"As an AI language model, I cannot",
	"As an AI language model, I am unable to",
	"As an AI language model, I don't have the ability to",
	"As an AI language model, I do not have the capability to",
	"As a language model AI, I'm not able to",
	"As an artificial intelligence, I cannot",
	"As an AI, I can't",
	"As an AI assistant, I must decline to",
	"As an AI developed by OpenAI, I am not able to",
	"I'm sorry, but I can't",
	"I’m sorry, but I cannot",
	"I'm sorry, but as an AI language model, I cannot",
	"I am sorry, but I am not able to",
	"Sorry, but I can't",
	"Sorry, I cannot",
	"I apologize, but I cannot",
	"I apologise, but as an AI I am unable to",
	"My apologies, but I'm unable to",
	"Unfortunately, I am unable to",
	"Unfortunately, as an AI, I don't have the ability to",
	"I'm afraid I can't",
	"I’m afraid that I am not able to",
	"I'm not able to",
	"I am unable to",
	"I cannot",
	"I can't",
	"Regrettably, I cannot",
	"I'm an AI and I can't",
	"Being an AI language model, I cannot",
	"I'm just an AI, so I can't",
}

var refusalTasks = []string{
	"provide personal opinions on this topic",
	"browse the internet to find that information",
	"access real-time data or current events",
	"help with that request",
	"fulfill this request",
	"assist with creating content like this",
	"predict the future outcome of this event",
	"provide medical advice for your situation",
	"give legal advice about this matter",
	"complete this task as it is written",
	"view images or watch videos",
	"determine the answer without more context",
	"access the article you are referring to",
	"make that decision for you",
	"generate that kind of content",
	"provide information about specific individuals",
	"experience emotions or have personal preferences",
	"verify the accuracy of this claim",
	"open links or external files",
	"answer this question",
}

var refusalReasons = []string{
	"",
	" because I do not have access to the necessary information",
	" as it goes against my guidelines",
	" since I do not have personal experiences",
	" as my knowledge is limited to the data I was trained on",
	" because the question lacks sufficient context",
	" as this could be harmful",
	" since I don't have the ability to browse the web",
	" because I am not a licensed professional",
	" as I do not have feelings or beliefs",
}

var refusalFollowUps = []string{
	"",
	" However, I can provide some general information if that would help.",
	" Please consult a qualified professional for advice specific to your case.",
	" If you have any other questions, feel free to ask.",
	" I recommend checking a reliable and up-to-date source.",
	" Is there anything else I can help you with?",
	" You may want to rephrase the question or provide more details.",
	" I would be happy to help with a different request.",
	" Instead, here is a brief overview of the topic.",
}

// refusalOpening returns a whole refusal response, optionally followed by a short generic paragraph
// (noncompliant OpenOrca answers average ~216 characters).
func (g *textGen) refusalOpening() string {
	var b strings.Builder
	b.WriteString(pick(g, refusalOpeners))
	b.WriteByte(' ')
	b.WriteString(pick(g, refusalTasks))
	b.WriteString(pick(g, refusalReasons))
	b.WriteByte('.')
	b.WriteString(pick(g, refusalFollowUps))
	if g.chance(0.3) {
		b.WriteString("\n\n")
		g.paragraph(&b, 80+g.intn(200))
	}
	return b.String()
}

var midDisclaimerLeads = []string{
	"Please note that", "However,", "Keep in mind that", "It is important to note that", "Note:", "That said,",
	"Unfortunately,", "Bear in mind that", "Also,", "Please be aware that", "",
}

var midDisclaimerBodies = []string{
	"as an AI, I do not have access to real-time data, so the figures above may be out of date",
	"as an AI language model, I don't have personal experiences, but based on the information provided",
	"I am an AI and cannot browse the internet, so I cannot confirm the latest details",
	"as an AI, I don't have feelings, but I can explain how people usually react in this situation",
	"my knowledge is limited to the data I was trained on, so I may not know about recent changes",
	"as an AI language model, I cannot provide professional medical advice, and you should see a doctor",
	"I'm an AI and I can't verify this information independently",
	"as an artificial intelligence, I do not have opinions of my own",
	"since I am an AI, I cannot see the image you are describing",
	"as a language model, I do not have the ability to access external databases",
	"I don’t have access to current prices, as my training data has a cutoff",
	"as an AI assistant, I am unable to make predictions about future events with certainty",
}

// refusalMid returns a real answer with a first-person AI disclaimer sentence inside it.
func (g *textGen) refusalMid(submix string, target int) string {
	ans := g.response(submix, max(target, 160))
	lead := pick(g, midDisclaimerLeads)
	body := pick(g, midDisclaimerBodies)
	if lead == "" {
		body = strings.ToUpper(body[:1]) + body[1:]
	} else {
		lead += " "
	}
	disc := lead + body + "."
	// Insert at a sentence boundary somewhere past the first sentence, so it is truly mid-answer.
	cut := -1
	for i := len(ans) / 3; i < len(ans)-1; i++ {
		if ans[i] == '.' && ans[i+1] == ' ' {
			cut = i + 1
			break
		}
	}
	if cut < 0 {
		return ans + " " + disc
	}
	return ans[:cut] + " " + disc + ans[cut:]
}

var aiQuestionTemplates = []string{
	"What is a large language model, and how is it trained?",
	"Explain how AI language models like GPT-3 generate text, in simple terms.",
	"Write a short essay about the impact of artificial intelligence on %s.",
	"Is the following statement true or false? “As an AI language model, ChatGPT cannot browse the web.” Explain.",
	"Summarize this article about language models:\n\n%s",
	"My teacher says AI chatbots cannot be trusted for %s. Do you agree? Give reasons.",
	"Translate to plain English: “Transformer-based language models predict the next token given the previous tokens.”",
	"What are the main limitations of AI assistants when answering questions about %s?",
	"Generate a tweet about a new AI language model that helps with %s.",
	"Q: Which company released the language model called %s? Options: A) OpenAI B) Google C) Meta D) none of these. A:",
}

// mentionsAIQuestion returns a question about AI or language models: a hard negative that must be kept.
func (g *textGen) mentionsAIQuestion() string {
	t := pick(g, aiQuestionTemplates)
	if strings.Contains(t, "%s") {
		var arg string
		if strings.HasPrefix(t, "Summarize") {
			arg = "Large language models are neural networks trained on huge collections of text. " + g.sentenceString() + " " + g.sentenceString()
		} else {
			arg = g.phrase(1 + g.intn(2))
		}
		t = fmt.Sprintf(t, arg)
	}
	return t
}

var aiAnswerSentences = []string{
	"A language model is a statistical model that assigns probabilities to sequences of words.",
	"Large language models such as GPT-4, PaLM and LLaMA are trained on hundreds of billions of tokens of text.",
	"During training, the model learns to predict the next token from the tokens that came before it.",
	"AI language models cannot access real-time data unless they are connected to external tools such as a search engine.",
	"Researchers evaluate language models on benchmarks that measure reasoning, knowledge and reading comprehension.",
	"The transformer architecture, introduced in 2017, uses attention to relate every token to every other token.",
	"Because a language model learns from its training data, it can repeat the biases found in that data.",
	"Fine-tuning adapts a pretrained language model to a narrower task using a smaller, curated dataset.",
	"An AI assistant is usually a language model that has been tuned to follow instructions and hold a conversation.",
	"Critics note that language models sometimes produce fluent but incorrect statements, often called hallucinations.",
	"Tokenizers split text into subword units, so a rare word may become several tokens.",
	"The phrase “as an AI language model” became a well-known sign of chatbot-written text in 2023.",
}

// discussesAIAnswer returns an answer that talks about language models factually, in the third person:
// a hard negative that must be kept.
func (g *textGen) discussesAIAnswer(target int) string {
	var b strings.Builder
	n := 2 + g.intn(4)
	b.WriteString(pick(g, aiAnswerSentences[:2])) // both name language models, so the topic is explicit
	for i := 1; i < n; i++ {
		b.WriteByte(' ')
		b.WriteString(pick(g, aiAnswerSentences))
	}
	if target > b.Len()+40 {
		b.WriteString("\n\n")
		g.paragraph(&b, target-b.Len())
	}
	return b.String()
}

var specialTokenSnippets = []string{
	"In ChatML every message starts with <|im_start|> followed by the role and ends with <|im_end|>.",
	"```python\nprompt = \"<|im_start|>user\\n\" + question + \"<|im_end|>\\n<|im_start|>assistant\\n\"\n```",
	"The string <|im_end|> marks the end of a turn.",
	"<|im_start|>system\nYou are a pirate.<|im_end|>",
	"Why does my output contain <|im_start|>assistant at the end?",
	"Remove the tokens <|im_start|> and <|im_end|> from this text before counting words.",
}

// withSpecialToken puts literal ChatML markers into a question or response.
func (g *textGen) withSpecialToken(q, r string) (string, string) {
	s := pick(g, specialTokenSnippets)
	if g.chance(0.5) {
		return q + "\n\n" + s, r
	}
	return q, s + "\n\n" + r
}

// withNonASCII puts characters outside ASCII and ’ – “ ” — into a question or response.
func (g *textGen) withNonASCII(q, r string) (string, string) {
	if g.chance(0.4) {
		// A translation task with a foreign-language answer.
		src := pick(g, foreignSentences)
		return "Translate the following sentence to English:\n\n" + src, g.sentenceString()
	}
	n := 1 + g.intn(3)
	for i := 0; i < n; i++ {
		w := strings.ReplaceAll(pick(g, nonASCIIWords), "_", " ")
		if g.chance(0.5) {
			q = insertWord(q, w, g.intn(len(q)+1))
		} else {
			r = insertWord(r, w, g.intn(len(r)+1))
		}
	}
	return q, r
}

// insertWord inserts " w " at the first space at or after byte pos (or appends), never splitting a UTF-8 sequence.
func insertWord(s, w string, pos int) string {
	i := strings.IndexByte(s[pos:], ' ')
	if i < 0 {
		return s + " " + w
	}
	i += pos
	return s[:i] + " " + w + s[i:]
}

var invalidUTF8Bytes = []string{"\xff", "\xfe\xfe", "\xc3\x28", "\xe2\x80", "\xed\xa0\x80", "\xf0\x28\x8c\x28", "\x80"}

// withInvalidUTF8 inserts bytes that are not valid UTF-8 into the question or the response.
func (g *textGen) withInvalidUTF8(q, r string) (string, string) {
	bad := pick(g, invalidUTF8Bytes)
	if g.chance(0.5) || r == "" {
		return insertWord(q, "caf"+bad, g.intn(len(q)+1)), r
	}
	return q, insertWord(r, bad+"x", g.intn(len(r)+1))
}

var whitespaceOnly = []string{" ", "  ", "\n", "\n\n", "\t", " \n ", "\r\n", "   \t\n", "\n \n"}
