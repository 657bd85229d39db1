package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of the CLI cases")

// TestCLICases runs every folder under testdata/cli as one CLI invocation (Miller-style golden cases):
//
//	cmd     the arguments, one per line; $REPO is the repository root, $TMP a fresh temp dir, $CASE the folder
//	env     optional: KEY=VALUE lines set in the environment for the case (same substitutions)
//	exit    the expected exit code
//	stdout  the expected standard output (absent: must be empty)
//	stderr  the expected standard error (absent: must be empty)
//
// Paths in the output are written back as $REPO/$TMP/$CASE so the files are machine-independent.
// go test ./cmd/orcaprep -run TestCLICases -update rewrites stdout, stderr and exit.
func TestCLICases(t *testing.T) {
	repo, _ := filepath.Abs("../..")
	cases, _ := filepath.Glob("testdata/cli/*")
	if len(cases) < 8 {
		t.Fatalf("only %d CLI cases", len(cases))
	}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			caseDir, _ := filepath.Abs(dir)
			tmp := t.TempDir()
			raw, err := os.ReadFile(filepath.Join(dir, "cmd"))
			if err != nil {
				t.Fatal(err)
			}
			sub := strings.NewReplacer("$REPO", repo, "$TMP", tmp, "$CASE", caseDir)
			if env, err := os.ReadFile(filepath.Join(dir, "env")); err == nil {
				for _, l := range strings.Split(strings.TrimSpace(string(env)), "\n") {
					k, v, _ := strings.Cut(sub.Replace(l), "=")
					t.Setenv(k, v)
				}
			}
			var args []string
			for _, a := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
				args = append(args, sub.Replace(a))
			}
			var stdout, stderr bytes.Buffer
			code := executeWith(args, &stdout, &stderr)
			back := strings.NewReplacer(tmp, "$TMP", caseDir, "$CASE", repo, "$REPO")
			got := map[string]string{"stdout": back.Replace(stdout.String()), "stderr": back.Replace(stderr.String()), "exit": strconv.Itoa(code) + "\n"}
			for _, name := range []string{"exit", "stdout", "stderr"} {
				path := filepath.Join(dir, name)
				if *update {
					if got[name] == "" {
						os.Remove(path)
					} else if err := os.WriteFile(path, []byte(got[name]), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				if got[name] != string(want) {
					t.Errorf("%s differs:\n--- got\n%s--- want\n%s", name, got[name], want)
				}
			}
		})
	}
}
