// Package chatml renders an OpenOrca record as ChatML, byte for byte as Axolotl does, in the two styles
// that matter: today's `chat_template: chatml` and the Aug-2023 OpenOrca loader LlongOrca was trained with.
package chatml
