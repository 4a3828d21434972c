package app_test

// Helpers of the process tests: the sequenceflow binary built once per test run, and its roles
// started as real OS processes with their own environment.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// processBinaryVersion is baked into the test binary with -ldflags -X main.version.
const processBinaryVersion = "process-test"

var processBinary struct {
	dir  string // set by TestMain, removed after the tests
	once sync.Once
	path string
	err  error
}

// processBinaryPath builds cmd/sequenceflow once (with the race detector when the tests have it,
// so the processes are checked for races too) and returns the binary.
func processBinaryPath(t *testing.T) string {
	t.Helper()
	processBinary.once.Do(func() {
		args := []string{"build", "-o", filepath.Join(processBinary.dir, "sequenceflow"),
			"-ldflags", "-X main.version=" + processBinaryVersion}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "github.com/sequenceflow/sequenceflow/cmd/sequenceflow")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			processBinary.err = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
			return
		}
		processBinary.path = filepath.Join(processBinary.dir, "sequenceflow")
	})
	if processBinary.err != nil {
		t.Fatal(processBinary.err)
	}
	return processBinary.path
}

// procOutput collects a process's output (or a log) while the test reads it.
type procOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *procOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *procOutput) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a running sequenceflow process.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *procOutput
	done chan struct{} // closed when the process has exited; err is then set
	err  error
}

// startProc runs `sequenceflow args...` with only env (plus PATH and HOME) as its environment.
// At the end of the test it is stopped with SIGTERM (SIGKILL after 20 s), its output is logged
// if the test failed, and a data race it reported fails the test.
func startProc(t *testing.T, name string, env map[string]string, args ...string) *proc {
	t.Helper()
	if len(args) > 0 {
		env = withPool(env, args[0])
	}
	p := &proc{name: name, out: &procOutput{}, done: make(chan struct{})}
	p.cmd = exec.Command(processBinaryPath(t), args...)
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		p.cmd.Env = append(p.cmd.Env, k+"="+env[k])
	}
	var w io.Writer = p.out
	if os.Getenv("TEST_LOG") != "" {
		w = io.MultiWriter(p.out, prefixWriter{name: name})
	}
	p.cmd.Stdout, p.cmd.Stderr = w, w
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(20 * time.Second):
				t.Errorf("%s ignored SIGTERM for 20 s; killing it", name)
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if strings.Contains(p.out.String(), "WARNING: DATA RACE") {
			t.Errorf("%s reported a data race", name)
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, tail(p.out.String(), 60))
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitExit waits up to d for the process to exit and returns its exit code.
func (p *proc) waitExit(t *testing.T, d time.Duration) int {
	t.Helper()
	d = testenv.Scaled(d)
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("%s still running %v after it was told to stop", p.name, d)
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("%s: %v", p.name, p.err)
	}
	return 0
}

// prefixWriter copies a process's output to the test's stderr (TEST_LOG=1), line by line.
type prefixWriter struct{ name string }

func (w prefixWriter) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			fmt.Fprintf(os.Stderr, "[%s] %s", w.name, line)
		}
	}
	return len(b), nil
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(all) > lines {
		all = append([]string{fmt.Sprintf("... %d lines before", len(all)-lines)}, all[len(all)-lines:]...)
	}
	return strings.Join(all, "\n")
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	return freePorts(t, 1)[0]
}

// freePorts returns n distinct TCP ports that were free a moment ago (held together while
// they are picked, so they differ from each other).
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	ports := make([]string, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports[i] = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// procHTTP answers status and body of GET url, or an error.
func procHTTP(url string) (int, string, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

// waitStatus polls url until it answers want with a body containing contains, failing after
// d or when one of procs exits.
func waitStatus(t *testing.T, url string, want int, contains string, d time.Duration, procs ...*proc) {
	t.Helper()
	d = testenv.Scaled(d)
	deadline := time.Now().Add(d)
	for {
		status, body, err := procHTTP(url)
		if err == nil && status == want && strings.Contains(body, contains) {
			return
		}
		for _, p := range procs {
			if p.exited() {
				t.Fatalf("%s exited (%v) while waiting for %s to answer %d", p.name, p.err, url, want)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answered %d %q (error %v) for %v; want %d with %q", url, status, body, err, d, want, contains)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
