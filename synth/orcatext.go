package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/orcaprep/orcaprep/orca"
)

// SystemPrompts are the 16 Orca system messages (Orca paper Table 2, as copied into CarperAI's generator that
// OpenOrca follows), 0-indexed; index 0 is the empty prompt. Spelling mistakes are the originals'.
var SystemPrompts = [16]string{
	"",
	"You are an AI assistant. Provide a detailed answer so user don’t need to search outside to understand the answer.",
	"You are an AI assistant. You will be given a task. You must generate a detailed and long answer.",
	"You are a helpful assistant, who always provide explanation. Think like you are answering to a five year old.",
	"You are an AI assistant that follows instruction extremely well. Help as much as you can.",
	"You are an AI assistant that helps people find information. Provide a detailed answer so user don’t need to search outside to understand the answer.",
	"You are an AI assistant. User will you give you a task. Your goal is to complete the task as faithfully as you can. While performing the task think step-by-step and justify your steps.",
	"You should describe the task and explain your answer. While answering a multiple choice question, first output the correct answer(s). Then explain why other answers are wrong. Think like you are answering to a five year old.",
	"Explain how you used the definition to come up with the answer.",
	"You are an AI assistant. You should describe the task and explain your answer. While answering a multiple choice question, first output the correct answer(s). Then explain why other answers are wrong. You might need to use additional knowledge to answer the question.",
	"You are an AI assistant that helps people find information. User will you give you a question. Your task is to answer as faithfully as you can. While answering think step-by-step and justify your answer.",
	"User will you give you a task with some instruction. Your job is follow the instructions as faithfully as you can. While answering think step-by-step and justify your answer.",
	"You are a teacher. Given a task, you explain in simple steps what the task is asking, any guidelines it provides and how to use those guidelines to find the answer.",
	"You are an AI assistant, who knows every language and how to translate one language to another. Given a task, you explain in simple steps what the task is asking, any guidelines that it provides. You solve the task and show how you used the guidelines to solve the task.",
	"Given a definition of a task and a sample input, break the definition into small parts.\nEach of those parts will have some instruction. Explain their meaning by showing an example that meets the criteria in the instruction. Use the following format:\nPart #: a key part of the definition.\nUsage: Sample response that meets the criteria from the key part. Explain why you think it meets the criteria.",
	"You are an AI assistant that helps people find information.",
}

// SystemPromptIndices maps a submix to the system messages it samples from (CarperAI system_messages.py);
// "flan_mc" is flan's multiple-choice questions.
var SystemPromptIndices = map[string][]int{
	orca.SubmixCoT:  {5, 10, 15},
	orca.SubmixNIV:  {0, 1, 4, 6, 8, 11, 12, 13, 14},
	orca.SubmixT0:   {0, 1, 2, 4, 6},
	orca.SubmixFlan: {2, 3, 6},
	"flan_mc":       {2, 3, 6, 7, 9},
}

// submixWeights are OpenOrca's approximate submix shares (flan ≈47%, t0 ≈35%, cot ≈9%, niv ≈9%), per mille.
var submixWeights = []struct {
	name   string
	permil int
}{{orca.SubmixFlan, 470}, {orca.SubmixT0, 350}, {orca.SubmixCoT, 90}, {orca.SubmixNIV, 90}}

func (g *textGen) submix() string {
	r := g.intn(1000)
	for _, w := range submixWeights {
		if r < w.permil {
			return w.name
		}
		r -= w.permil
	}
	return orca.SubmixFlan
}

// systemPrompt picks a system prompt allowed for the submix.
func (g *textGen) systemPrompt(submix string, mc bool) string {
	key := submix
	if submix == orca.SubmixFlan && mc {
		key = "flan_mc"
	}
	return SystemPrompts[pick(g, SystemPromptIndices[key])]
}

var mcLetters = []string{"A", "B", "C", "D"}

// question writes an OpenOrca-style task of roughly target bytes for the submix.
func (g *textGen) question(submix string, mc bool, target int) string {
	var b strings.Builder
	body := max(30, target-120)
	switch submix {
	case orca.SubmixFlan:
		switch {
		case !mc && !g.noWrite && g.chance(0.2):
			g.write = true
			g.writeTask(&b, body)
		case mc:
			b.WriteString(pick(g, []string{"Read the text and answer the question.\n\n", "Article: ", "", "Choose your answer. "}))
			g.prose(&b, body)
			fmt.Fprintf(&b, "\n\nQuestion: %s\n", strings.TrimSuffix(g.sentenceString(), ".")+"?")
			b.WriteString(pick(g, []string{"Options:\n", "Choose from:\n", "Pick your answer from:\n"}))
			for i := 0; i < 2+g.intn(3); i++ {
				fmt.Fprintf(&b, "%s) %s\n", mcLetters[i], g.phrase(1+g.intn(4)))
			}
			b.WriteString("Answer:")
		case g.chance(0.3) && !g.noWrite:
			fmt.Fprintf(&b, "Write an article based on this summary:\n\n%s", g.sentenceString())
			if body > 200 {
				b.WriteString("\n\n")
				g.paragraph(&b, body-100)
			}
		default:
			leads := []string{"Summarize this article:\n\n", "What is the sentiment of the following review?\n", "Generate a short summary: ", "Continue writing the next sentence.\n\n", ""}
			if g.noWrite {
				leads = leads[:3] // no request for text in a persona: a refusal's label stays unambiguous
			}
			b.WriteString(pick(g, leads))
			g.prose(&b, body)
			if g.chance(0.5) {
				b.WriteString("\n\nWhat is a summary of this text?")
			}
		}
	case orca.SubmixT0:
		if g.chance(0.2) { // a long fixed instruction shared by every row of its template, like T0's prompts
			t := longTemplates[g.intn(len(longTemplates))]
			b.WriteString(t)
			b.WriteString("\n\n")
			body = max(30, body-len(t)) // the template is part of the question's length budget
		}
		switch g.intn(3) {
		case 0:
			fmt.Fprintf(&b, "Answer the following question: %s\n", g.sentenceString())
			g.paragraph(&b, body)
		case 1:
			b.WriteString("Read the following paragraph and determine if the hypothesis is true:\n\n")
			g.prose(&b, body)
			fmt.Fprintf(&b, "\n\nHypothesis: %s", g.sentenceString())
		default:
			b.WriteString("Given the following context:\n\n")
			g.prose(&b, body)
			fmt.Fprintf(&b, "\n\nanswer the following question:\n\nWhat is the name of the %s that %s?", pick(g, contentWords), g.phrase(3))
		}
	case orca.SubmixCoT:
		switch g.intn(3) {
		case 0:
			fmt.Fprintf(&b, "Premise: “%s”\nHypothesis: “%s”\nIs the hypothesis entailed by the premise?\nOptions:\n- yes\n- it is not possible to tell\n- no", strings.TrimSuffix(g.sentenceString(), "."), strings.TrimSuffix(g.sentenceString(), "."))
			if body > 200 {
				b.WriteString("\n\n")
				g.paragraph(&b, body-200)
			}
			b.WriteString(" Let's be accurate as possible and think first.")
		case 1:
			b.WriteString("Q: ")
			g.paragraph(&b, body)
			b.WriteString("\nA: Let’s think step by step.")
		default:
			g.paragraph(&b, body)
			b.WriteString(" Stream of consciousness first, then make a decision:")
		}
	default: // niv: one of a fixed set of long task definitions, as Super-NaturalInstructions tasks have
		b.WriteString("Detailed Instructions: ")
		def := nivDefinitions[g.intn(len(nivDefinitions))]
		b.WriteString(def)
		b.WriteString("\nQ: ")
		g.paragraph(&b, max(20, body-150-len(def)/2))
		b.WriteString("\nA:")
	}
	return b.String()
}

// nivDefinitions and longTemplates are fixed task instructions (80–200 words) shared by many rows, built once
// from their own seeded generator so they are the same in every file: near-dedupe must not mistake rows that
// share one for duplicates.
var nivDefinitions, longTemplates = func() ([]string, []string) {
	g := &textGen{rng: rand.New(rand.NewPCG(1515, 4242))}
	mk := func(n int, lead string) []string {
		out := make([]string, n)
		for i := range out {
			var b strings.Builder
			fmt.Fprintf(&b, "%s you are given a %s about %s. Your job is to %s the %s. ", lead,
				pick(g, []string{"sentence", "passage", "question", "review", "dialogue"}), g.phrase(2),
				pick(g, []string{"classify", "summarize", "label", "answer", "identify"}), pick(g, contentWords))
			g.paragraph(&b, 480+g.intn(300))
			out[i] = b.String()
		}
		return out
	}
	return mk(60, "In this task,"), mk(12, "Read the instructions carefully:")
}()

var shortAnswers = []string{"yes", "no", "Yes.", "No.", "(B)", "A)", "it is not possible to tell", "True", "False", "Positive", "negative", "3", "1994"}

// response writes an answer of roughly target bytes; tiny targets give the terse answers FLAN is full of.
func (g *textGen) response(submix string, target int) string {
	if g.write {
		return g.firstPersonText(target)
	}
	if target < 12 {
		return pick(g, shortAnswers)
	}
	var b strings.Builder
	switch {
	case submix == orca.SubmixCoT || (target > 300 && g.chance(0.25)):
		n := 0
		for b.Len() < target-60 {
			n++
			if n > 1 {
				b.WriteString("\n\n")
			}
			fmt.Fprintf(&b, "Step %d: ", n)
			g.paragraph(&b, min(target-b.Len(), 80+g.intn(300)))
		}
		if n == 0 {
			g.paragraph(&b, target)
		}
		fmt.Fprintf(&b, "\n\nSo, the answer is %s.", strings.TrimSuffix(pick(g, shortAnswers), "."))
	default:
		g.prose(&b, target)
	}
	return b.String()
}

// writeTasks are FLAN-style requests for text in a persona or in the first person.
var writeTasks = []string{
	"Write a negative review about a %s.", "Write a 1-star review of a %s.", "Write a positive yelp review for a %s.",
	"Write an email with the subject line \"%s\".", "Write a letter to a friend about the %s.",
	"Write a tweet about the %s.", "Compose a short story about a %s, told in the first person.",
	"Write a dialogue between two friends about the %s.", "Write a diary entry about the %s.",
	"Translate to English: the %s.", "Continue the following story about the %s.",
	"Imagine you are a customer. Write a complaint about the %s.",
}

// writeTask writes a request for first-person text.
func (g *textGen) writeTask(b *strings.Builder, body int) {
	fmt.Fprintf(b, pick(g, writeTasks), g.phrase(1+g.intn(2)))
	if body > 200 {
		b.WriteString("\n\n")
		g.paragraph(b, body-150)
	}
}

// firstPersonSentences are what people write in reviews, emails and stories; several read like an
// assistant's refusal out of context ("I'm sorry, but I can't …", "Unfortunately, I cannot …"), which is
// exactly what the refusal filter must keep in answers to write-type questions.
var firstPersonSentences = []string{
	"I'm sorry, but I can't make it to the %s on Friday.", "Unfortunately, I cannot recommend this %s to anyone.",
	"I apologize for the late reply about the %s.", "I'm afraid I won't be able to join the %s this week.",
	"Sorry, but I couldn't find the %s you mentioned.", "I can't believe how bad the %s was.",
	"My %s arrived broken and I am not happy.", "I don't have time to look at the %s today.",
	"I'm not able to give you an answer on the %s until Monday.", "I think the %s was worth every penny.",
	"I am unable to attend the %s, so please go without me.", "We loved the %s and I would go again.",
}

// firstPersonText writes about target bytes of first-person prose for a write-type task.
func (g *textGen) firstPersonText(target int) string {
	var b strings.Builder
	for b.Len() < max(target, 40) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if g.chance(0.4) {
			fmt.Fprintf(&b, pick(g, firstPersonSentences), pick(g, contentWords))
		} else {
			g.sentence(&b)
		}
	}
	return b.String()
}
