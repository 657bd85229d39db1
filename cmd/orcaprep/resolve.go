package main

import (
	"context"

	"github.com/orcaprep/orcaprep/exitcode"
)

// resolveRef turns an hf:// reference into a local file. It is replaced by the hub client once that lands.
var resolveRef = func(_ context.Context, ref string) (string, error) {
	return "", exitcode.Errorf(exitcode.Usage, "%s: Hugging Face references need the hub client, not built in yet", ref)
}
