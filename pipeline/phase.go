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
)

// Phases lists every phase, in order.
var Phases = []string{PhaseOpen, PhaseStream, PhasePack, PhaseFinish, PhaseReport, PhaseCommit}

// PauseEnv names a hidden test hook: ORCAPREP_TEST_PAUSE_AT=<phase> makes a run print
// "orcaprep: test hook: paused in phase <phase> (pid N)" to stderr when it reaches the phase, then wait until
// it is interrupted or the file named by ORCAPREP_TEST_RESUME exists (at most two minutes), and go on as
// normal. Tests and scripts/drill.sh use it to deliver a signal inside a given phase instead of guessing
// with timers. The run itself must then notice the interrupt: the hook returns nothing.
const (
	PauseEnv  = "ORCAPREP_TEST_PAUSE_AT"
	ResumeEnv = "ORCAPREP_TEST_RESUME"
)

// pauseAt is the test hook; without the environment variable it costs one lookup.
func pauseAt(ctx context.Context, phase string) {
	want := os.Getenv(PauseEnv)
	if want == "" || !strings.EqualFold(want, phase) {
		return
	}
	fmt.Fprintf(os.Stderr, "orcaprep: test hook: paused in phase %s (pid %d)\n", phase, os.Getpid())
	resume := os.Getenv(ResumeEnv)
	deadline := time.After(2 * time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
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
