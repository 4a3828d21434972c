package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// reloadProgram is the stand-in for sequenceflow: it prints its version and pid, then waits
// for SIGTERM.
const reloadProgram = `package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	fmt.Printf("running %s pid=%d args=%v\n", %q, os.Getpid(), os.Args[1:])
	<-c
	fmt.Printf("pid=%d got SIGTERM\n", os.Getpid())
}
`

// TestComposeDevReload runs deploy/compose/dev-reload.sh (the dev stack's hot reload) on a small
// program: it builds and starts it, rebuilds and restarts it on a change, keeps it running
// through a failed build, restarts it when it dies, and stops it gracefully on SIGTERM.
func TestComposeDevReload(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("go is not on PATH: %v", err)
	}
	dir := t.TempDir()
	write := func(version string) {
		t.Helper()
		src := strings.Replace(reloadProgram, "%q", strconv.Quote(version), 1)
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/reload\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	write("v1")
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command("sh", filepath.Join(repoRoot(t), "deploy/compose/dev-reload.sh"), "serve", "--flag")
	cmd.Dir = dir
	cmd.Env = []string{
		// HOME outside the watched tree: the go command writes there (telemetry counters),
		// and a write inside it would be a change that starts another build.
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GOCACHE=" + strings.TrimSpace(string(gocache)),
		"GOFLAGS=-buildvcs=false", "GOTOOLCHAIN=local", "CGO_ENABLED=0",
		"RELOAD_PACKAGE=.", "RELOAD_WATCH=.", "RELOAD_POLL_INTERVAL=0.1", "RELOAD_RESTART_DELAY=0.1",
		"RELOAD_BIN=" + filepath.Join(t.TempDir(), "app"), // outside the watched tree
	}
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, so cleanup also reaches the program it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when the script has exited; waitErr is then set
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
			return
		default:
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group this test started
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("dev-reload did not exit after SIGKILL")
		}
	})

	running := regexp.MustCompile(`running (.+?) pid=(\d+) args=\[serve --flag\]`)
	// waitFor polls the output until it holds n matches of re, and returns the last.
	waitFor := func(what string, re *regexp.Regexp, n int) []string {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			if all := re.FindAllStringSubmatch(out.String(), -1); len(all) >= n {
				return all[len(all)-1]
			}
			select {
			case <-exited:
				t.Fatalf("dev-reload exited (%v) while waiting for %s:\n%s", waitErr, what, out.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s after 90 s:\n%s", what, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	first := waitFor("first start", running, 1)
	if first[1] != "v1" {
		t.Fatalf("first start runs %s, want v1", first[1])
	}

	write("version 2, edited")
	second := waitFor("restart after an edit", running, 2)
	if second[1] != "version 2, edited" {
		t.Fatalf("after the edit it runs %q, want the edited program", second[1])
	}
	if !strings.Contains(out.String(), "pid="+first[2]+" got SIGTERM") {
		t.Errorf("the old process %s was not stopped with SIGTERM:\n%s", first[2], out.String())
	}

	if err := os.WriteFile(filepath.Join(dir, "broken.go"), []byte("package main\n\nthis does not compile\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("failed build", regexp.MustCompile(`build failed; keeping the running process`), 1)
	if n := len(running.FindAllString(out.String(), -1)); n != 2 {
		t.Errorf("a failed build restarted the process (%d starts)", n)
	}

	pid, _ := strconv.Atoi(second[2])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the program: %v", err)
	}
	third := waitFor("restart after the program died", running, 3)
	if third[1] != "version 2, edited" || third[2] == second[2] {
		t.Errorf("after a crash it runs %v, want the last good build in a new process", third)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("dev-reload exited with %v on SIGTERM, want 0", waitErr)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("dev-reload did not exit within 10 s of SIGTERM:\n%s", out.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("pid=%s got SIGTERM", third[2])) {
		t.Errorf("on SIGTERM the program %s was not stopped gracefully:\n%s", third[2], out.String())
	}
}
