// Package scripts holds the repository's shell scripts; these tests run them as a user would.
package scripts

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// holdLock takes a POSIX (fcntl) write lock on path, the kind dpkg and apt take, in a child process
// (a process never sees its own fcntl locks as held).
func holdLock(t *testing.T, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("python3", "-c", `import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.lockf(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)`, path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("python3: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf[:6]) != "locked" {
		t.Fatalf("lock holder did not start: %q %v", buf, err)
	}
	return cmd
}

func waitLock(t *testing.T, lock string, timeout string) (string, int, time.Duration) {
	t.Helper()
	cmd := exec.Command("./wait-apt-lock.sh")
	cmd.Env = append(os.Environ(), "ORCAPREP_APT_LOCKS="+lock, "ORCAPREP_APT_LOCK_TIMEOUT="+timeout, "ORCAPREP_APT_LOCK_POLL=0.1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code, time.Since(start)
}

// install-test-deps.sh waits for a held dpkg lock, says who holds it, gives up after the timeout, and goes
// on as soon as the lock is free.
func TestWaitAptLock(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("ORCAPREP_REQUIRE_TOOLS") != "" {
			t.Fatal("python3 is required")
		}
		t.Skip("python3 missing")
	}
	lock := filepath.Join(t.TempDir(), "lock-frontend")
	os.WriteFile(lock, nil, 0o644)
	if out, code, _ := waitLock(t, lock, "5"); code != 0 || out != "" {
		t.Fatalf("free lock: exit %d, output %q", code, out)
	}
	holder := holdLock(t, lock)
	out, code, _ := waitLock(t, lock, "1")
	want := "(pid " + strconv.Itoa(holder.Process.Pid) + ") holds " + lock
	if code != 1 || !strings.Contains(out, want+"; waiting for it to finish") || !strings.Contains(out, "giving up") {
		t.Fatalf("held lock: exit %d, output:\n%s\nwant it to name %q", code, out, want)
	}
	// Released while the script waits (once it said so): it goes on.
	cmd := exec.Command("./wait-apt-lock.sh")
	cmd.Env = append(os.Environ(), "ORCAPREP_APT_LOCKS="+lock, "ORCAPREP_APT_LOCK_TIMEOUT=120", "ORCAPREP_APT_LOCK_POLL=0.1")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil || !strings.Contains(line, "waiting for it to finish") {
		t.Fatalf("first line %q (%v)", line, err)
	}
	holder.Process.Signal(syscall.SIGKILL)
	holder.Wait()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("released lock: %v", err)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("still waiting a minute after the lock was released")
	}
}
