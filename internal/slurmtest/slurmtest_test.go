package slurmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestArrayAndAfterOK checks the cluster itself: a 3-task array and a job chained on it with afterok run, and a
// failing array task leaves its dependent cancelled (DependencyNeverSatisfied) under --kill-on-invalid-dep=yes.
func TestArrayAndAfterOK(t *testing.T) {
	c := Start(t, Options{})
	out := t.TempDir()
	a := c.Sbatch(t, "--array=0-2", "--output="+filepath.Join(out, "a-%a.out"), "--wrap", `echo "$SLURM_ARRAY_TASK_ID"; [ "$SLURM_ARRAY_TASK_ID" != 9 ]`)
	c.Sbatch(t, "--dependency=afterok:"+a, "--kill-on-invalid-dep=yes", "--output="+filepath.Join(out, "b.out"), "--wrap", "cat "+filepath.Join(out, "a-*.out"))
	f := c.Sbatch(t, "--array=0-1", "--output=/dev/null", "--wrap", `[ "$SLURM_ARRAY_TASK_ID" = 0 ]`)
	g := c.Sbatch(t, "--dependency=afterok:"+f, "--kill-on-invalid-dep=yes", "--output=/dev/null", "--wrap", "true")
	waitEmpty(t, c)
	b, err := os.ReadFile(filepath.Join(out, "b.out"))
	if err != nil || strings.Fields(string(b)) == nil || strings.Join(strings.Fields(string(b)), ",") != "0,1,2" {
		t.Fatalf("dependent job output %q, %v", b, err)
	}
	st, _ := c.command("scontrol", "show", "job", g).CombinedOutput()
	if !strings.Contains(string(st), "JobState=CANCELLED") || !strings.Contains(string(st), "DependencyNeverSatisfied") {
		t.Fatalf("job after a failed array task:\n%s", st)
	}
}

func waitEmpty(t *testing.T, c *Cluster) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		out, err := c.command("squeue", "--noheader").Output()
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(out)) == "" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	out, _ := exec.Command("squeue").CombinedOutput()
	t.Fatalf("jobs still queued after 60 s:\n%s", out)
}
