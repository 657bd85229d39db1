package main

import (
	"context"

	"github.com/orcaprep/orcaprep/hub"
	"github.com/orcaprep/orcaprep/progress"
)

// resolverFor returns the function that turns an hf:// reference (an input or a tokenizer of `run`, the
// tokenizer of `tokenize`) into a local file through the huggingface_hub cache, downloading it on demand with
// the same client as `pull` and the environment's Hub settings (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE,
// HF_HUB_OFFLINE). quiet silences download progress and retry notices, as --quiet does for the run.
func resolverFor(quiet bool) func(context.Context, string) (string, error) {
	return func(ctx context.Context, ref string) (string, error) {
		o := hub.OptionsFromEnv()
		if quiet {
			o.Progress, o.Stderr = progress.Never, nil
		}
		return hub.Resolve(ctx, ref, o)
	}
}

// resolveRef is the default, non-quiet resolver.
var resolveRef = resolverFor(false)
