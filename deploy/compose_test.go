// Package deploy_test checks the deployment files: both Compose stacks, the Dockerfile, its
// .dockerignore and the development reload script. They cannot be run here (no Docker engine),
// so the tests assert what `docker compose up` relies on and validate the files with
// docker-compose when it is installed.
package deploy_test

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// repoRoot is the repository root (this package lives in deploy/).
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	return filepath.Dir(filepath.Dir(file))
}

// composeFile is the subset of the Compose specification the stacks use. Decoding is strict:
// a key outside it (a typo such as "healtcheck", or a new feature) fails the test, so every key
// the stacks rely on is one these checks know about.
type composeFile struct {
	Services   map[string]*service `yaml:"services"`
	Volumes    map[string]any      `yaml:"volumes"`
	Extensions map[string]any      `yaml:",inline"` // x-* anchors only
}

type service struct {
	Image           string                `yaml:"image"`
	Build           *build                `yaml:"build"`
	ContainerName   string                `yaml:"container_name"`
	Entrypoint      []string              `yaml:"entrypoint"`
	Command         []string              `yaml:"command"`
	Environment     map[string]string     `yaml:"environment"`
	Ports           []string              `yaml:"ports"`
	Expose          []string              `yaml:"expose"`
	Volumes         []string              `yaml:"volumes"`
	DependsOn       map[string]dependency `yaml:"depends_on"`
	Healthcheck     *healthcheck          `yaml:"healthcheck"`
	Restart         string                `yaml:"restart"`
	StopGracePeriod string                `yaml:"stop_grace_period"`
	Logging         *logging              `yaml:"logging"`
	Deploy          *deployment           `yaml:"deploy"`
}

type build struct {
	Context    string            `yaml:"context"`
	Dockerfile string            `yaml:"dockerfile"`
	Target     string            `yaml:"target"`
	Args       map[string]string `yaml:"args"`
}

type dependency struct {
	Condition string `yaml:"condition"`
}

type healthcheck struct {
	Test        []string `yaml:"test"`
	Disable     bool     `yaml:"disable"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
}

type logging struct {
	Driver  string            `yaml:"driver"`
	Options map[string]string `yaml:"options"`
}

type deployment struct {
	Replicas  *int `yaml:"replicas"`
	Resources struct {
		Limits *struct {
			CPUs   string `yaml:"cpus"`
			Memory string `yaml:"memory"`
		} `yaml:"limits"`
	} `yaml:"resources"`
}

const (
	devFile  = "docker-compose.dev.yml"
	prodFile = "docker-compose.prod.yml"
)

// stackServices is what both stacks run.
var stackServices = []string{"alert-webhook", "alertmanager", "api", "asynqmon", "grafana", "jaeger", "migrate", "postgres", "prometheus", "redis", "redis-commander", "worker"}

// prodSecrets are the variables docker-compose.prod.yml requires; checks that resolve the
// prod file use these stand-ins.
var prodSecrets = map[string]string{
	"POSTGRES_PASSWORD":        "pg-secret",
	"REDIS_PASSWORD":           "redis-secret",
	"REDIS_COMMANDER_PASSWORD": "rc-secret",
	"GRAFANA_ADMIN_PASSWORD":   "grafana-secret",
	"API_KEYS":                 "api-key-one-0123456789,api-key-two-0123456789",
}

// without returns a copy of env without the variable name.
func without(env map[string]string, name string) map[string]string {
	out := maps.Clone(env)
	delete(out, name)
	return out
}

func loadCompose(t *testing.T, name string) *composeFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), name))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var cf composeFile
	if err := dec.Decode(&cf); err != nil {
		t.Fatalf("%s: %v (keys must be ones these tests know; extend the types in compose_test.go with a check)", name, err)
	}
	for k := range cf.Extensions {
		if !strings.HasPrefix(k, "x-") {
			t.Errorf("%s: unknown top-level key %q (only services, volumes and x-* extensions)", name, k)
		}
	}
	if len(cf.Services) == 0 {
		t.Fatalf("%s: no services", name)
	}
	return &cf
}

// refRE matches Compose variable references: $$ (a literal $), ${VAR}, ${VAR:-default},
// ${VAR-default}, ${VAR:?error}, ${VAR?error} and $VAR.
var refRE = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolate resolves s as Compose does with the variables env; a missing required variable
// is an error.
func interpolate(s string, env map[string]string) (string, error) {
	var errs []string
	out := refRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := refRE.FindStringSubmatch(m)
		name, op, arg := sub[1], sub[2], sub[3]
		if name == "" {
			name = sub[4]
		}
		v, set := env[name]
		switch op {
		case ":-":
			if v == "" {
				return arg
			}
		case "-":
			if !set {
				return arg
			}
		case ":?":
			if v == "" {
				errs = append(errs, fmt.Sprintf("%s: %s", name, arg))
			}
		case "?":
			if !set {
				errs = append(errs, fmt.Sprintf("%s: %s", name, arg))
			}
		}
		return v
	})
	if errs != nil {
		return out, fmt.Errorf("required variables missing: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

func mustInterpolate(t *testing.T, s string, env map[string]string) string {
	t.Helper()
	v, err := interpolate(s, env)
	if err != nil {
		t.Fatalf("interpolate %q: %v", s, err)
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestComposeStacks checks the invariants both stacks share.
func TestComposeStacks(t *testing.T) {
	for _, tc := range []struct {
		file string
		env  map[string]string
	}{{devFile, map[string]string{}}, {prodFile, prodSecrets}} {
		t.Run(tc.file, func(t *testing.T) {
			cf := loadCompose(t, tc.file)
			if got := sortedKeys(cf.Services); !slices.Equal(got, stackServices) {
				t.Errorf("services %v, want %v", got, stackServices)
			}
			checkScalableWorker(t, cf)
			checkHealthchecks(t, cf)
			checkImagesPinned(t, cf, tc.env)
			checkDependencies(t, cf)
			checkNamedVolumes(t, cf)
			checkAppEnvironment(t, cf, tc.env)
		})
	}
}

func checkScalableWorker(t *testing.T, cf *composeFile) {
	t.Helper()
	w := cf.Services["worker"]
	if w == nil {
		t.Fatal("no worker service")
	}
	if w.ContainerName != "" {
		t.Errorf("worker has container_name %q: --scale worker=N needs Compose to name the replicas", w.ContainerName)
	}
	if len(w.Ports) != 0 {
		t.Errorf("worker publishes host ports %v: a second replica could not bind them", w.Ports)
	}
	if w.Command == nil || w.Command[0] != "worker" {
		t.Errorf("worker command %v, want [worker]", w.Command)
	}
}

func checkHealthchecks(t *testing.T, cf *composeFile) {
	t.Helper()
	for _, name := range sortedKeys(cf.Services) {
		hc := cf.Services[name].Healthcheck
		if name == "migrate" {
			// One-shot: dependents wait for it to complete, not to be healthy.
			continue
		}
		switch {
		case hc == nil:
			t.Errorf("service %s has no healthcheck", name)
		case hc.Disable:
			t.Errorf("service %s disables its healthcheck", name)
		case len(hc.Test) < 2 || (hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL"):
			t.Errorf("service %s healthcheck test %q: want [CMD, ...] or [CMD-SHELL, ...]", name, hc.Test)
		case hc.Interval == "" || hc.Timeout == "" || hc.Retries == 0:
			t.Errorf("service %s healthcheck needs interval, timeout and retries: %+v", name, *hc)
		}
	}
}

// imageRE splits an image reference: [registry/]repository[:tag][@digest].
var imageRE = regexp.MustCompile(`^((?:[^/@]+/)*[^/:@]+)(?::([\w][\w.-]*))?(?:@(sha256:[0-9a-f]{64}))?$`)

// pinned reports why an image reference is not pinned to a version, or "" when it is: it needs
// a digest, or a tag other than latest that names a version (has a digit). Distroless-style
// tags (static-debian12:nonroot) count when the repository name carries the version.
func pinned(ref string) string {
	m := imageRE.FindStringSubmatch(ref)
	if m == nil {
		return "not an image reference"
	}
	repo, tag, digest := m[1], m[2], m[3]
	switch {
	case digest != "":
		return ""
	case tag == "":
		return "untagged (means latest)"
	case tag == "latest":
		return "tagged latest"
	case !strings.ContainsAny(tag, "0123456789") && !strings.ContainsAny(repo[strings.LastIndex(repo, "/")+1:], "0123456789"):
		return "tag " + tag + " names no version"
	}
	return ""
}

func TestComposePinnedRule(t *testing.T) {
	for ref, want := range map[string]bool{
		"postgres:16-alpine": true, "redis:7.4-alpine": true, "prom/prometheus:v3.5.0": true,
		"ghcr.io/joeferner/redis-commander:0.9.0": true, "gcr.io/distroless/static-debian12:nonroot": true,
		"redis@sha256:" + strings.Repeat("a", 64): true,
		"redis": false, "redis:latest": false, "grafana/grafana:main": false, "localhost:5000/x": false,
	} {
		if got := pinned(ref) == ""; got != want {
			t.Errorf("pinned(%q) = %q, want pinned=%v", ref, pinned(ref), want)
		}
	}
}

func checkImagesPinned(t *testing.T, cf *composeFile, env map[string]string) {
	t.Helper()
	for _, name := range sortedKeys(cf.Services) {
		s := cf.Services[name]
		image := mustInterpolate(t, s.Image, env)
		if s.Build != nil {
			// A built image still needs an explicit, non-latest tag: api, worker and migrate
			// share it, and `--scale` must not pick up another build.
			if m := imageRE.FindStringSubmatch(image); m == nil || m[2] == "" || m[2] == "latest" {
				t.Errorf("service %s builds image %q: give it an explicit tag other than latest", name, image)
			}
			dockerfile := filepath.Join(repoRoot(t), s.Build.Context, cmpOr(s.Build.Dockerfile, "Dockerfile"))
			for _, from := range dockerfileBases(t, dockerfile, s.Build.Args) {
				if why := pinned(from); why != "" {
					t.Errorf("service %s: %s starts FROM %s: %s", name, dockerfile, from, why)
				}
			}
			continue
		}
		if why := pinned(image); why != "" {
			t.Errorf("service %s image %q is not pinned to a version: %s", name, image, why)
		}
	}
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

var conditions = []string{"service_started", "service_healthy", "service_completed_successfully"}

func checkDependencies(t *testing.T, cf *composeFile) {
	t.Helper()
	for _, name := range sortedKeys(cf.Services) {
		for _, dep := range sortedKeys(cf.Services[name].DependsOn) {
			cond := cf.Services[name].DependsOn[dep].Condition
			target := cf.Services[dep]
			switch {
			case target == nil:
				t.Errorf("%s depends on unknown service %s", name, dep)
			case !slices.Contains(conditions, cond):
				t.Errorf("%s depends on %s with condition %q, want one of %v", name, dep, cond, conditions)
			case cond == "service_healthy" && (target.Healthcheck == nil || target.Healthcheck.Disable):
				t.Errorf("%s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			case cond == "service_completed_successfully" && dep != "migrate":
				t.Errorf("%s waits for %s to complete, but only migrate is one-shot", name, dep)
			}
		}
	}
	for _, name := range []string{"api", "worker"} {
		want := map[string]string{"migrate": "service_completed_successfully", "postgres": "service_healthy", "redis": "service_healthy"}
		for dep, cond := range want {
			if got := cf.Services[name].DependsOn[dep].Condition; got != cond {
				t.Errorf("%s depends on %s with %q, want %s", name, dep, got, cond)
			}
		}
	}
	if got := cf.Services["migrate"].DependsOn["postgres"].Condition; got != "service_healthy" {
		t.Errorf("migrate depends on postgres with %q, want service_healthy", got)
	}
	if r := cf.Services["migrate"].Restart; r != "no" {
		t.Errorf(`migrate restart %q, want "no": a one-shot that restarts never completes`, r)
	}
}

// volumeSource returns the source of a short-syntax volume and whether it is a bind mount.
func volumeSource(v string) (source, target string, bind bool) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 {
		return "", parts[0], false // anonymous volume
	}
	source, target = parts[0], parts[1]
	return source, target, strings.HasPrefix(source, ".") || strings.HasPrefix(source, "/") || strings.HasPrefix(source, "~")
}

func checkNamedVolumes(t *testing.T, cf *composeFile) {
	t.Helper()
	used := map[string]bool{}
	for _, name := range sortedKeys(cf.Services) {
		for _, v := range cf.Services[name].Volumes {
			source, _, bind := volumeSource(v)
			if source == "" || bind {
				continue
			}
			used[source] = true
			if _, ok := cf.Volumes[source]; !ok {
				t.Errorf("service %s mounts volume %q, which the file does not declare", name, source)
			}
		}
	}
	for v := range cf.Volumes {
		if !used[v] {
			t.Errorf("volume %s is declared but no service mounts it", v)
		}
	}
	for _, name := range []string{"postgres", "redis", "prometheus", "grafana"} {
		named := false
		for _, v := range cf.Services[name].Volumes {
			if source, _, bind := volumeSource(v); source != "" && !bind {
				named = true
			}
		}
		if !named {
			t.Errorf("service %s keeps its data in no named volume", name)
		}
	}
}
