package main

import (
	"context"

	"github.com/orcaprep/orcaprep/hub"
)

// resolveRef turns an hf:// reference (an input or a tokenizer of `run`, the tokenizer of `tokenize`) into a
// local file through the huggingface_hub cache, downloading it on demand with the same client as `pull` and
// the environment's Hub settings (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, HF_HUB_OFFLINE).
func resolveRef(ctx context.Context, ref string) (string, error) {
	return hub.Resolve(ctx, ref, hub.OptionsFromEnv())
}
