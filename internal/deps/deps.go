// Package deps pins modules that later stages import, so go.mod stays stable while packages are written in parallel.
package deps

import (
	_ "github.com/parquet-go/parquet-go"
	_ "github.com/spf13/cobra"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/zeebo/xxh3"
	_ "golang.org/x/text/unicode/norm"
	_ "golang.org/x/sync/errgroup"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/term"
	_ "google.golang.org/protobuf/encoding/protowire"
)

