// Package samples turns an OpenOrca record into the token ids and trained span that Axolotl builds from it,
// for each ChatML style, with the model's tokenizer.
package samples
