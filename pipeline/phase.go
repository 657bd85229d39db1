package pipeline

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// Phases of a run, in order. An interrupt in any of them cancels the run (exit 130) and leaves OUT as it was.
const (
	PhaseOpen   = "open"   // OUT locked, inputs and tokenizer opened
	PhaseStream = "stream" // reading, filtering, deduplicating, writing shards (after the first batch)
	PhasePack   = "pack"   // packed format, pass 2: bins written from the token spill (after the first bin)
	PhaseFinish = "finish" // writers closed; stats.json, axolotl.yaml, report.html, manifest.json written
	PhaseReport = "report" // the text report rendered
	PhaseCommit = "commit" // just before the staging directory replaces OUT
	// PhaseSwapped is after OUT was replaced, while the previous output is deleted: the run is done, an
	// interrupt no longer changes the outcome. A hook point for kill -9 tests only.
	PhaseSwapped = "swapped"
)

// Phases lists every phase an interrupt cancels, in order.
var Phases = []string{PhaseOpen, PhaseStream, PhasePack, PhaseFinish, PhaseReport, PhaseCommit}

// PauseEnv names a hidden test hook: ORCAPREP_TEST_PAUSE_AT=<phase>[,<phase>…] makes a run print
// "orcaprep: test hook: paused in phase <phase> (pid N)" to stderr when it reaches the phase, then wait until
// it is interrupted or the file named by ORCAPREP_TEST_RESUME exists (at most two minutes), and go on as
// normal. Tests and scripts/drill.sh use it to deliver a signal inside a given phase instead of guessing
// with timers. The run itself must then notice the interrupt: the hook returns nothing.
// <phase>:stuck ignores interrupts while paused, like a phase blocked in a long system call: only a second
// signal (which exits at once) or the resume file ends it.
const (
	PauseEnv  = "ORCAPREP_TEST_PAUSE_AT"
	ResumeEnv = "ORCAPREP_TEST_RESUME"
)

// pauseAt is the test hook; without the environment variable it costs one lookup. The variable may list
// several phases, comma-separated: a test pausing in one phase lists the later ones too, and so sees that
// an interrupt stopped the run before it reached them.
func pauseAt(ctx context.Context, phase string) {
	env := os.Getenv(PauseEnv)
	if env == "" {
		return
	}
	var mode string
	found := false
	for _, p := range strings.Split(env, ",") {
		var name string
		name, mode, _ = strings.Cut(strings.TrimSpace(p), ":")
		if strings.EqualFold(name, phase) {
			found = true
			break
		}
	}
	if !found {
		return
	}
	done := ctx.Done()
	if mode == "stuck" {
		done = nil
	}
	fmt.Fprintf(os.Stderr, "orcaprep: test hook: paused in phase %s (pid %d)\n", phase, os.Getpid())
	resume := os.Getenv(ResumeEnv)
	deadline := time.After(2 * time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-deadline:
			return
		case <-tick.C:
			if resume != "" {
				if _, err := os.Stat(resume); err == nil {
					return
				}
			}
		}
	}
}
