package pipeline

import (
	"context"
	"io"

	"github.com/orcaprep/orcaprep/progress"
)

// CLIOverrides are the `orcaprep run` flags; a flag overrides the config only when it was set.
type CLIOverrides struct {
	Inputs      []string
	Out         string
	Format      string
	Workers     int
	Compression string
	Tokenizer   string
	SequenceLen int
	Overwrite   bool
	Quiet       bool
	// Staged are the scale-out flags (--executor, --tasks, --work, …).
	Staged StagedOptions
	// Changed reports whether a flag was given on the command line.
	Changed func(flag string) bool
}

// CLIEnv is what the command passes from its environment.
type CLIEnv struct {
	Stdout, Stderr io.Writer
	Version        string
	Resolve        Resolver
}

// RunCLI loads the config (or defaults), applies flag overrides and runs: in this process, or staged on an
// executor when --executor is given.
func RunCLI(ctx context.Context, configPath string, o CLIOverrides, env CLIEnv) error {
	cfg, err := configFromCLI(configPath, o)
	if err != nil {
		return err
	}
	if o.Staged.requested() {
		return runStaged(ctx, cfg, o, env)
	}
	opts := Options{Config: cfg, Overwrite: o.Overwrite, Progress: progress.Auto, Stderr: env.Stderr, Stdout: env.Stdout,
		Version: env.Version, Resolve: env.Resolve}
	if o.Quiet {
		opts.Progress = progress.Never
		opts.Stdout = nil
	}
	defer tuneRuntime(cfg.Workers, runGCPercent(&cfg))()
	_, err = Run(ctx, opts)
	return err
}

// configFromCLI loads the config (or defaults) and applies the flags that were set.
func configFromCLI(configPath string, o CLIOverrides) (Config, error) {
	cfg := DefaultConfig()
	if configPath != "" {
		var err error
		if cfg, err = LoadConfig(configPath); err != nil {
			return cfg, err
		}
	}
	changed := o.Changed
	if changed == nil {
		changed = func(string) bool { return false }
	}
	if len(o.Inputs) > 0 {
		cfg.Inputs = o.Inputs
	}
	if changed("out") {
		cfg.Out = o.Out
	}
	if changed("format") {
		cfg.Format = o.Format
	}
	if changed("workers") {
		cfg.Workers = o.Workers
	}
	if changed("tokenizer") {
		cfg.Tokenizer.Path = o.Tokenizer
	}
	if changed("sequence-len") {
		cfg.Packing.SequenceLen = o.SequenceLen
	}
	if changed("compression") {
		cfg.Output.Compression = o.Compression
	}
	return cfg, nil
}
