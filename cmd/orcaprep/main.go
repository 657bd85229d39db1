// Command orcaprep rebuilds the curated OpenOrca instruction-tuning set behind LlongOrca-7B-16k
// and writes it as sharded JSONL that Axolotl loads as is.
//
// Each subcommand lives in its own cmd_<name>.go file, registers itself in init, and its RunE only parses
// flags and calls a plain run function in a package, so the behaviour is testable without cobra.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

var rootCmd = &cobra.Command{
	Use:   "orcaprep",
	Short: "Rebuild the LlongOrca-7B-16k OpenOrca training set as Axolotl-ready JSONL shards",
	Long: `orcaprep streams the OpenOrca Parquet files, selects, filters and deduplicates rows, renders ChatML,
and writes JSONL shards that Axolotl loads as they are, with a manifest and a statistics ledger
that accounts for every input row.

` + exitcode.Help,
	SilenceUsage:  true,
	SilenceErrors: true,
}

var cpuProfile string

func init() {
	rootCmd.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) to this file")
	rootCmd.PersistentFlags().MarkHidden("cpuprofile")
	rootCmd.PersistentPreRunE = func(*cobra.Command, []string) error {
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return exitcode.With(exitcode.Usage, err)
		}
		return pprof.StartCPUProfile(f)
	}
	rootCmd.PersistentPostRun = func(*cobra.Command, []string) { pprof.StopCPUProfile() }
}

// addCommand registers a subcommand; each cmd_*.go file calls it from init.
func addCommand(c *cobra.Command) { rootCmd.AddCommand(c) }

func main() {
	os.Exit(execute(os.Args[1:]))
}

// execute runs the CLI with the process's standard streams.
func execute(args []string) int { return executeWith(args, os.Stdout, os.Stderr) }

// executeWith runs the CLI with args and returns the process exit code. Errors are printed here, once,
// so that every command reports failures the same way.
func executeWith(args []string, stdout, stderr io.Writer) int {
	ctx, stop := interruptContext(stderr)
	defer stop()
	rootCmd.SetArgs(args)
	rootCmd.SetOut(stdout)
	rootCmd.SetErr(stderr)
	// cobra keeps a subcommand's context and flag values from an earlier execution; tests call execute repeatedly.
	for _, c := range rootCmd.Commands() {
		c.SetContext(ctx)
		resetFlags(c.Flags())
	}
	resetFlags(rootCmd.PersistentFlags())
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exitcode.With(exitcode.Usage, err)
	})
	err := rootCmd.ExecuteContext(ctx)
	if err == nil {
		return exitcode.OK
	}
	code := exitcode.Code(err)
	if code == exitcode.Failure && isUsageError(err) {
		code = exitcode.Usage
	}
	if code == exitcode.Canceled && ctx.Err() != nil {
		// Every command writes under temporary names, so an interrupted one leaves no partial output. (A staged
		// run whose task was interrupted — scancel, a time limit — exits 130 too, but says which task below.)
		fmt.Fprintln(stderr, "orcaprep: interrupted; partial output was removed and the output directory is unchanged")
		return code
	}
	fmt.Fprintf(stderr, "orcaprep: %v\n", err)
	return code
}

// interruptContext is cancelled by the first SIGINT or SIGTERM: every phase of a command checks it, cleans
// up and returns, and the process exits 130. A second signal exits at once (130), leaving any staging
// directory for the next run on the same output to remove.
func interruptContext(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "\norcaprep: interrupted again; exiting now (the next run on the same output removes what this one left)")
			os.Exit(exitcode.Canceled)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// noPositional refuses positional arguments with a hint for the flag the user probably meant, instead of
// cobra's "unknown command": `orcaprep run x.parquet` means --input x.parquet.
func noPositional(flag string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		return exitcode.Errorf(exitcode.Usage, "%s takes no positional arguments (got %q); did you mean: %s %s %s", cmd.CommandPath(), args[0], cmd.CommandPath(), flag, args[0])
	}
}

// isUsageError recognises cobra's own argument errors (unknown command, wrong arg count), which are not typed.
func isUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// resetFlags puts every flag back to its default, as in a fresh process.
func resetFlags(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				// A slice flag's DefValue reads "[a,b]".
				var def []string
				if d := strings.Trim(f.DefValue, "[]"); d != "" {
					def = strings.Split(d, ",")
				}
				sv.Replace(def)
			} else {
				f.Value.Set(f.DefValue)
			}
			f.Changed = false
		}
	})
}
