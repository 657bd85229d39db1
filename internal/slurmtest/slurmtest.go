// Package slurmtest starts a real one-node Slurm cluster (Debian's slurmctld and slurmd) for tests, on free
// ports in a temporary directory, and stops exactly the daemons it started.
package slurmtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Cluster is a running one-node Slurm.
type Cluster struct {
	// Dir holds slurm.conf, state, spool and the daemons' logs.
	Dir string
	// Conf is the slurm.conf path; Start sets SLURM_CONF to it for the test (t.Setenv), so sbatch, squeue and
	// scontrol run by the test or by code under test talk to this cluster.
	Conf  string
	procs []*daemon
}

type daemon struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been reaped
}

// Options shape the cluster.
type Options struct {
	// MaxArraySize is written to slurm.conf when > 0 (Slurm's default is 1001).
	MaxArraySize int
}

// Start starts slurmctld and slurmd and waits until the node is idle. Without the Slurm binaries it skips the
// test, or fails it under ORCAPREP_REQUIRE_TOOLS=1 (scripts/install-test-deps.sh installs them). The daemons are
// stopped by pid when the test ends, after cancelling the cluster's jobs.
func Start(t testing.TB, o Options) *Cluster {
	t.Helper()
	var missing []string
	for _, b := range []string{"/usr/sbin/slurmctld", "/usr/sbin/slurmd", "sbatch", "squeue", "scontrol", "scancel", "sinfo"} {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		if os.Getenv("ORCAPREP_REQUIRE_TOOLS") != "" {
			t.Fatalf("Slurm is required (scripts/install-test-deps.sh installs slurmctld slurmd slurm-client); missing %s", strings.Join(missing, ", "))
		}
		t.Skipf("Slurm not installed (missing %s); run scripts/install-test-deps.sh", strings.Join(missing, ", "))
	}
	if os.Geteuid() != 0 {
		if os.Getenv("ORCAPREP_REQUIRE_TOOLS") != "" {
			t.Fatal("the one-node Slurm test runs the daemons as root (SlurmUser=root); run the tests as root, as CI does")
		}
		t.Skip("the one-node Slurm test needs root")
	}
	// Slurm refuses socket paths and some names that are too long; keep the directory short.
	dir, err := os.MkdirTemp("", "slurm-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Dir: dir, Conf: filepath.Join(dir, "slurm.conf")}
	t.Cleanup(func() {
		c.stop(t)
		if !t.Failed() {
			os.RemoveAll(dir)
		} else {
			t.Logf("Slurm directory kept: %s", dir)
		}
	})
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ = strings.Cut(host, ".")
	ports := freePorts(t, 2)
	extra := ""
	if o.MaxArraySize > 0 {
		extra = fmt.Sprintf("MaxArraySize=%d\n", o.MaxArraySize)
	}
	// sched_interval/bf_interval of 1 s and MinJobAge 10 keep a chained run to about a second per stage.
	conf := fmt.Sprintf(`ClusterName=orcaprep%d
SlurmctldHost=%[2]s
SlurmctldPort=%[3]d
SlurmdPort=%[4]d
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=%[5]s/state
SlurmdSpoolDir=%[5]s/spool
SlurmctldPidFile=%[5]s/slurmctld.pid
SlurmdPidFile=%[5]s/slurmd.pid
SlurmctldLogFile=%[5]s/slurmctld.log
SlurmdLogFile=%[5]s/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerParameters=sched_interval=1,bf_interval=1,sched_min_interval=100000
MinJobAge=10
KillWait=5
%[6]sNodeName=%[2]s CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`, ports[0], host, ports[0], ports[1], dir, extra)
	for _, d := range []string{"state", "spool"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(c.Conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLURM_CONF", c.Conf)
	c.start(t, "ctld.out", "/usr/sbin/slurmctld", "-D", "-i")
	c.start(t, "slurmd.out", "/usr/sbin/slurmd", "-D")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := c.command("sinfo", "--noheader", "--format=%T").Output()
		if strings.TrimSpace(string(out)) == "idle" {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("Slurm node not idle after 30 s (sinfo: %q); logs in %s", out, dir)
		}
		for _, d := range c.procs {
			select {
			case <-d.done:
				t.Fatalf("%s exited: %s; see %s", d.cmd.Path, d.cmd.ProcessState, dir)
			default:
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *Cluster) start(t testing.TB, log string, argv ...string) {
	t.Helper()
	f, err := os.Create(filepath.Join(c.Dir, log))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), "SLURM_CONF="+c.Conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", argv[0], err)
	}
	f.Close()
	d := &daemon{cmd: cmd, done: make(chan struct{})}
	c.procs = append(c.procs, d)
	go func() { cmd.Wait(); close(d.done) }()
}

// command runs a Slurm client against this cluster (SLURM_CONF is set explicitly: t.Setenv is undone before
// the cleanup that stops the cluster runs).
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+c.Conf)
	return cmd
}

// stop cancels every job of the cluster, waits briefly for them to end, then stops the two daemons by pid.
func (c *Cluster) stop(t testing.TB) {
	c.command("scancel", "--full", "--me").Run()
	for i := 0; i < 50; i++ {
		out, err := c.command("squeue", "--noheader").Output()
		if err != nil || len(bytes.TrimSpace(out)) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		d := c.procs[i]
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(10 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
			t.Logf("%s (pid %d) did not stop on SIGTERM; killed", d.cmd.Path, d.cmd.Process.Pid)
		}
	}
}

// Sbatch submits a batch job with args and returns its id.
func (c *Cluster) Sbatch(t testing.TB, args ...string) string {
	t.Helper()
	out, err := c.command("sbatch", append([]string{"--parsable"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch %v: %v\n%s", args, err, out)
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	return id
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
