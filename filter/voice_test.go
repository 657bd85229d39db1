package filter

import "testing"

func TestAsksForContent(t *testing.T) {
	yes := []string{
		"Write a negative review about a hotel.", "Write a 1-star review of a restaurant.",
		"Write an email with the subject line \"Lunch on Friday\".", "Write a letter to a friend about the trip.",
		"Write a tweet about the game.", "Compose a short story about a dog, told in the first person.",
		"Write a dialogue between two friends about the move.", "Write a diary entry about the storm.",
		"Translate to English: the house.", "Continue the following story about the fair.",
		"Imagine you are a customer. Write a complaint about the delivery.",
		"Translate the following sentence to French:\n\nI am not able to answer the phone right now.",
		"Continue writing the next sentence.\n\nThe man walked in.", "What would be an example of a negative review?",
		"Generate a 5-star review (1 being lowest and 5 being highest) about an app with package org.wikipedia.",
		"Write a text based on \"taliban attack kills\"", "Pretend you are a pirate and describe your ship.",
		"Summer was over.\nWrite the next sentence in this story.",
	}
	no := []string{
		"What is the sentiment of the following review?\nThe food was cold. I can't recommend it.",
		"Answer the following question: who wrote the story of the lost city?",
		"Summarize this article:\n\nThe company said on Monday that it will continue to translate its manuals into twelve languages and write a story for the press about the new plant, which opened in March after two years of delays and cost overruns that the board blamed on suppliers.",
		"Premise: A man is sleeping.\nHypothesis: A man sleeps.\nIs the hypothesis entailed?",
		"Detailed Instructions: In this task, you are given a sentence. Classify it as positive or negative.\nQ: I loved it.\nA:",
		"What is the next step?",
	}
	for _, q := range yes {
		if !asksForContent(q) {
			t.Errorf("should ask for content: %q", q)
		}
	}
	for _, q := range no {
		if asksForContent(q) {
			t.Errorf("should not ask for content: %q", q)
		}
	}
}
