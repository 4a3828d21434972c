package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/app"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY, ...
	args string
}

type stage struct {
	name  string
	from  string
	instr []instruction
}

// dockerfile is a parsed Dockerfile: global ARG defaults and its stages in order.
type dockerfile struct {
	args   map[string]string
	stages []stage
}

func parseDockerfile(t *testing.T, file string) dockerfile {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	df := dockerfile{args: map[string]string{}}
	var line strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(raw))
	flush := func() {
		text := strings.TrimSpace(line.String())
		line.Reset()
		if text == "" {
			return
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		switch {
		case in.cmd == "FROM":
			fields := strings.Fields(in.args)
			st := stage{from: fields[0]}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				st.name = fields[2]
			}
			df.stages = append(df.stages, st)
		case in.cmd == "ARG" && len(df.stages) == 0:
			name, value, _ := strings.Cut(in.args, "=")
			df.args[name] = value
		case len(df.stages) > 0:
			df.stages[len(df.stages)-1].instr = append(df.stages[len(df.stages)-1].instr, in)
		}
	}
	for sc.Scan() {
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			line.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		line.WriteString(trimmed)
		flush()
	}
	flush()
	return df
}

func (df dockerfile) stage(name string) *stage {
	for i := range df.stages {
		if df.stages[i].name == name {
			return &df.stages[i]
		}
	}
	return nil
}

// last returns the stage's last instruction of kind cmd.
func (s *stage) last(cmd string) (instruction, bool) {
	for i := len(s.instr) - 1; i >= 0; i-- {
		if s.instr[i].cmd == cmd {
			return s.instr[i], true
		}
	}
	return instruction{}, false
}

// dockerfileBases returns the external images a Dockerfile builds FROM, with ARG defaults
// (overridden by build args) substituted; FROM an earlier stage is skipped.
func dockerfileBases(t *testing.T, file string, buildArgs map[string]string) []string {
	t.Helper()
	df := parseDockerfile(t, file)
	var bases []string
	seen := map[string]bool{}
	for _, st := range df.stages {
		from := os.Expand(st.from, func(name string) string {
			if v, ok := buildArgs[name]; ok {
				return v
			}
			return df.args[name]
		})
		if !seen[from] {
			bases = append(bases, from)
		}
		seen[st.name] = true
	}
	return bases
}

// execForm decodes a JSON exec form (["a", "b"]); it fails on the shell form.
func execForm(t *testing.T, what, args string) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		t.Errorf("%s %s: want the exec form [\"...\"] (signals reach the process): %v", what, args, err)
	}
	return argv
}

// TestComposeDockerfile checks the image: module layer before the source, a static trimmed
// binary with its version, a non-root distroless runtime with a health check, one image for
// every role, and the dev stage's reload loop.
func TestComposeDockerfile(t *testing.T) {
	root := repoRoot(t)
	df := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	for _, base := range dockerfileBases(t, filepath.Join(root, "Dockerfile"), nil) {
		if why := pinned(base); why != "" {
			t.Errorf("FROM %s: %s", base, why)
		}
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(gomod); m == nil || versionLess(df.args["GO_VERSION"], string(m[1])) {
		t.Errorf("Dockerfile GO_VERSION %q is older than go.mod's go directive %q", df.args["GO_VERSION"], m)
	}

	var names []string
	for _, st := range df.stages {
		names = append(names, st.name)
	}
	if !slices.Equal(names, []string{"modules", "build", "dev", "runtime"}) {
		t.Fatalf("stages %v, want modules, build, dev, runtime (runtime last: the default target)", names)
	}
	modules := df.stage("modules")
	var steps []string
	for _, in := range modules.instr {
		steps = append(steps, in.cmd+" "+in.args)
	}
	copyMod := slices.IndexFunc(steps, func(s string) bool { return strings.HasPrefix(s, "COPY go.mod go.sum") })
	download := slices.IndexFunc(steps, func(s string) bool { return strings.HasPrefix(s, "RUN go mod download") })
	if copyMod < 0 || download < copyMod || slices.ContainsFunc(steps, func(s string) bool { return strings.HasPrefix(s, "COPY . ") }) {
		t.Errorf("modules stage %q: want COPY go.mod go.sum, then RUN go mod download, and no source (a cached layer)", steps)
	}
	if env, _ := modules.last("ENV"); !strings.Contains(env.args, "CGO_ENABLED=0") {
		t.Errorf("modules stage ENV %q: want CGO_ENABLED=0 (a static binary for distroless/static)", env.args)
	}
	run, _ := df.stage("build").last("RUN")
	for _, flag := range []string{"go build", "-trimpath", `-ldflags "-s -w -X main.version=${VERSION}"`, "./cmd/sequenceflow"} {
		if !strings.Contains(run.args, flag) {
			t.Errorf("build RUN %q lacks %q", run.args, flag)
		}
	}

	rt := df.stage("runtime")
	if !strings.HasPrefix(rt.from, "gcr.io/distroless/static") {
		t.Errorf("runtime FROM %s: want gcr.io/distroless/static (no shell, CA certificates, tzdata)", rt.from)
	}
	if user, ok := rt.last("USER"); !ok || user.args == "root" || strings.HasPrefix(user.args, "0") {
		t.Errorf("runtime USER %q: want a non-root user", user.args)
	}
	if ep, _ := rt.last("ENTRYPOINT"); !slices.Equal(execForm(t, "ENTRYPOINT", ep.args), []string{"/sequenceflow"}) {
		t.Errorf("runtime ENTRYPOINT %s, want [\"/sequenceflow\"]: the role is the command", ep.args)
	}
	if cmd, _ := rt.last("CMD"); len(execForm(t, "CMD", cmd.args)) != 1 {
		t.Errorf("runtime CMD %s: want one role", cmd.args)
	} else if _, err := app.ParseRole(execForm(t, "CMD", cmd.args)[0]); err != nil {
		t.Errorf("runtime CMD %s: %v", cmd.args, err)
	}
	hc, _ := rt.last("HEALTHCHECK")
	_, probe, _ := strings.Cut(hc.args, "CMD ")
	if argv := execForm(t, "HEALTHCHECK", probe); len(argv) != 3 || argv[0] != "/sequenceflow" || argv[1] != "healthcheck" || !strings.HasSuffix(argv[2], ":3000/healthz") {
		t.Errorf("runtime HEALTHCHECK %q: want CMD [\"/sequenceflow\", \"healthcheck\", \"http://127.0.0.1:3000/healthz\"]", hc.args)
	}
	if exp, _ := rt.last("EXPOSE"); !slices.Contains(strings.Fields(exp.args), "3000") || !slices.Contains(strings.Fields(exp.args), "9091") {
		t.Errorf("runtime EXPOSE %q: want 3000 (API) and 9091 (worker health)", exp.args)
	}

	dev := df.stage("dev")
	if dev.from != "modules" {
		t.Errorf("dev stage FROM %s, want modules (toolchain and downloaded modules)", dev.from)
	}
	if ep, _ := dev.last("ENTRYPOINT"); !slices.Equal(execForm(t, "ENTRYPOINT", ep.args), []string{"/usr/local/bin/dev-reload"}) {
		t.Errorf("dev ENTRYPOINT %s, want the reload loop", ep.args)
	}
	if cp, _ := dev.last("COPY"); !strings.Contains(cp.args, "deploy/compose/dev-reload.sh /usr/local/bin/dev-reload") {
		t.Errorf("dev stage COPY %q: want deploy/compose/dev-reload.sh", cp.args)
	}
}

// versionLess compares dotted Go versions numerically.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// TestComposeDockerignore checks that .dockerignore keeps out secrets and clutter but nothing
// `go build ./cmd/sequenceflow` needs: every Go file and embedded file of the module's packages
// in the binary, go.mod, go.sum and the dev stage's reload script.
func TestComposeDockerignore(t *testing.T) {
	root := repoRoot(t)
	rules := loadDockerignore(t, filepath.Join(root, ".dockerignore"))
	cmd := exec.Command("go", "list", "-deps", "-json=Dir,GoFiles,EmbedFiles,Module", "./cmd/sequenceflow")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	needed := []string{"go.mod", "go.sum", "deploy/compose/dev-reload.sh"}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var pkg struct {
			Dir        string
			GoFiles    []string
			EmbedFiles []string
			Module     *struct{ Main bool }
		}
		if err := dec.Decode(&pkg); err != nil {
			t.Fatal(err)
		}
		if pkg.Module == nil || !pkg.Module.Main {
			continue
		}
		for _, f := range slices.Concat(pkg.GoFiles, pkg.EmbedFiles) {
			rel, err := filepath.Rel(root, filepath.Join(pkg.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			needed = append(needed, filepath.ToSlash(rel))
		}
	}
	if len(needed) < 20 {
		t.Fatalf("go list found only %v", needed)
	}
	for _, f := range needed {
		if rules.ignored(f) {
			t.Errorf(".dockerignore excludes %s, which the image build needs", f)
		}
	}
	for _, f := range []string{".env", ".git/config", "bin/sequenceflow", "deploy/grafana/dashboards/x.json", "internal/app/app_test.go"} {
		if !rules.ignored(f) {
			t.Errorf(".dockerignore lets %s into the build context", f)
		}
	}
}

type ignoreRule struct {
	re     *regexp.Regexp
	negate bool
}

type ignoreRules []ignoreRule

func loadDockerignore(t *testing.T, file string) ignoreRules {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rules ignoreRules
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if strings.HasPrefix(line, "!") {
			r.negate, line = true, line[1:]
		}
		line = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(line)), "/")
		var re strings.Builder
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case strings.HasPrefix(line[i:], "**/"):
				re.WriteString("(?:.*/)?")
				i += 2
			case strings.HasPrefix(line[i:], "**"):
				re.WriteString(".*")
				i++
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		r.re = regexp.MustCompile("^" + re.String() + "$")
		rules = append(rules, r)
	}
	return rules
}

// ignored applies the rules as Docker does: the last rule matching the path, or one of its
// parent directories, decides.
func (rules ignoreRules) ignored(path string) bool {
	ignored := false
	for _, r := range rules {
		match := r.re.MatchString(path)
		for dir := filepath.ToSlash(filepath.Dir(path)); !match && dir != "."; dir = filepath.ToSlash(filepath.Dir(dir)) {
			match = r.re.MatchString(dir)
		}
		if match {
			ignored = !r.negate
		}
	}
	return ignored
}
