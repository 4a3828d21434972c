package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestComposeDev checks what the development stack promises: the original service's host
// ports, hot reload from the mounted source, anonymous Grafana viewers, and no password other
// than the documented development defaults.
func TestComposeDev(t *testing.T) {
	cf := loadCompose(t, devFile)
	env := map[string]string{}
	wantPorts := map[string][]string{
		"api":             {"3000:3000"},
		"asynqmon":        {"3001:8080"},
		"redis-commander": {"8081:8081"},
		"grafana":         {"3002:3000"},
		"prometheus":      {"9090:9090"},
		"alertmanager":    {"9093:9093"},
		"jaeger":          {"16686:16686", "4317:4317", "4318:4318"},
		"postgres":        {"5432:5432"},
		"redis":           {"6380:6379"},
	}
	for _, name := range sortedKeys(cf.Services) {
		var got []string
		for _, p := range cf.Services[name].Ports {
			got = append(got, mustInterpolate(t, p, env))
		}
		if !slices.Equal(got, wantPorts[name]) {
			t.Errorf("%s publishes %v, want %v", name, got, wantPorts[name])
		}
	}
	for _, name := range []string{"api", "worker", "migrate"} {
		s := cf.Services[name]
		if s.Build == nil || s.Build.Target != "dev" {
			t.Errorf("%s: want build target dev (Go toolchain and dev-reload), got %+v", name, s.Build)
		}
		mounted := false
		for _, v := range s.Volumes {
			if source, target, bind := volumeSource(v); bind && source == "." && target == "/src" {
				mounted = true
			}
		}
		if !mounted {
			t.Errorf("%s does not mount the repository on /src (hot reload): volumes %v", name, s.Volumes)
		}
	}
	if got := cf.Services["migrate"].Entrypoint; !slices.Equal(got, []string{"go", "run", "./cmd/sequenceflow"}) {
		t.Errorf("dev migrate entrypoint %v: want go run ./cmd/sequenceflow (one-shot, not the reload loop)", got)
	}
	g := cf.Services["grafana"].Environment
	if g["GF_AUTH_ANONYMOUS_ENABLED"] != "true" || g["GF_AUTH_ANONYMOUS_ORG_ROLE"] != "Viewer" {
		t.Errorf("dev grafana: want anonymous Viewer access, got %v", g)
	}
	examples, err := os.ReadFile(filepath.Join(repoRoot(t), ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range secretRefs(t, devFile) {
		if ref.op != ":-" || ref.arg == "" {
			t.Errorf("%s: ${%s%s%s}: a dev password needs a documented default", devFile, ref.name, ref.op, ref.arg)
		} else if !strings.Contains(string(examples), ref.arg) {
			t.Errorf("%s: default %q of %s is not documented in .env.example", devFile, ref.arg, ref.name)
		}
	}
}

// TestComposeProd checks the production stack: restart policies, resource limits, rotated JSON
// logs, no source mounts, authenticated or local-only UIs and no committed passwords.
func TestComposeProd(t *testing.T) {
	cf := loadCompose(t, prodFile)
	for _, name := range sortedKeys(cf.Services) {
		s := cf.Services[name]
		switch {
		case name == "migrate":
		case !slices.Contains([]string{"always", "unless-stopped", "on-failure"}, s.Restart):
			t.Errorf("%s restart %q, want unless-stopped, always or on-failure", name, s.Restart)
		}
		if s.Deploy == nil || s.Deploy.Resources.Limits == nil || s.Deploy.Resources.Limits.CPUs == "" || s.Deploy.Resources.Limits.Memory == "" {
			t.Errorf("%s has no deploy.resources.limits with cpus and memory", name)
		}
		if s.Logging == nil || s.Logging.Driver != "json-file" || s.Logging.Options["max-size"] == "" {
			t.Errorf("%s: want the json-file log driver with max-size rotation, got %+v", name, s.Logging)
		}
		for _, v := range s.Volumes {
			source, _, bind := volumeSource(v)
			if bind && (!strings.HasPrefix(source, "./deploy/") || !strings.HasSuffix(v, ":ro")) {
				t.Errorf("%s bind-mounts %q: production mounts only configuration from ./deploy/, read-only", name, v)
			}
		}
		if s.Build != nil && s.Build.Target == "dev" {
			t.Errorf("%s builds the dev stage", name)
		}
	}
	for _, name := range []string{"api", "worker", "migrate"} {
		if b := cf.Services[name].Build; b == nil || b.Target != "runtime" || b.Args["VERSION"] == "" {
			t.Errorf("%s: want the runtime stage with a VERSION build arg, got %+v", name, b)
		}
	}
	for _, name := range []string{"api", "worker"} {
		if hc := cf.Services[name].Healthcheck; hc == nil || len(hc.Test) < 3 || hc.Test[1] != "/sequenceflow" || hc.Test[2] != "healthcheck" {
			t.Errorf("%s: the distroless image has no shell or wget; want [CMD, /sequenceflow, healthcheck, URL], got %+v", name, hc)
		}
	}
	if r := cf.Services["worker"].Deploy; r == nil || r.Replicas == nil || *r.Replicas < 2 {
		t.Errorf("prod worker: want at least 2 replicas by default")
	}
	shutdown, err := time.ParseDuration(mustInterpolate(t, cf.Services["worker"].Environment["SHUTDOWN_TIMEOUT"], prodSecrets))
	grace, err2 := time.ParseDuration(cf.Services["worker"].StopGracePeriod)
	if err != nil || err2 != nil || grace <= shutdown {
		t.Errorf("worker stop_grace_period %q must exceed SHUTDOWN_TIMEOUT %q, or Docker kills in-flight tasks",
			cf.Services["worker"].StopGracePeriod, cf.Services["worker"].Environment["SHUTDOWN_TIMEOUT"])
	}
	for _, name := range []string{"postgres", "redis"} {
		if len(cf.Services[name].Ports) != 0 {
			t.Errorf("prod %s publishes %v: keep it on the compose network", name, cf.Services[name].Ports)
		}
	}
	for _, name := range []string{"alertmanager", "asynqmon", "prometheus", "jaeger", "redis-commander"} {
		for _, p := range cf.Services[name].Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("prod %s publishes %q on every interface; bind it to 127.0.0.1", name, p)
			}
		}
	}
	if !slices.Contains(cf.Services["asynqmon"].Command, "--read-only") {
		t.Errorf("prod asynqmon command %v lacks --read-only", cf.Services["asynqmon"].Command)
	}
	g := cf.Services["grafana"].Environment
	if g["GF_AUTH_ANONYMOUS_ENABLED"] != "false" || !regexp.MustCompile(`^\$\{GRAFANA_ADMIN_PASSWORD:\?`).MatchString(g["GF_SECURITY_ADMIN_PASSWORD"]) {
		t.Errorf("prod grafana: want anonymous access off and the admin password required from the environment, got %v", g)
	}
	if g["GF_LOG_CONSOLE_FORMAT"] != "json" || !slices.Contains(cf.Services["prometheus"].Command, "--log.format=json") ||
		!slices.Contains(cf.Services["alertmanager"].Command, "--log.format=json") {
		t.Errorf("prod grafana, prometheus and alertmanager should log JSON")
	}

	raw, err := os.ReadFile(filepath.Join(repoRoot(t), prodFile))
	if err != nil {
		t.Fatal(err)
	}
	_, err = interpolate(string(raw), map[string]string{})
	for name := range prodSecrets {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s resolves without %s; it must refuse to start instead (${%s:?...})", prodFile, name, name)
		}
	}
	// API keys are required on their own: passwords alone do not start an open API.
	if _, err := interpolate(string(raw), without(prodSecrets, "API_KEYS")); err == nil || !strings.Contains(err.Error(), "API_KEYS") {
		t.Errorf("%s resolves with every password but without API_KEYS (%v); the API must not start without keys", prodFile, err)
	}
	for _, ref := range secretRefs(t, prodFile) {
		if ref.op != ":?" && (ref.op != ":-" || ref.arg != "") {
			t.Errorf("%s: ${%s%s%s}: production credentials must be required (${%s:?message}) or optional and empty (${%s:-}), never defaulted",
				prodFile, ref.name, ref.op, ref.arg, ref.name, ref.name)
		}
	}
	checkNoPlaintextSecrets(t, prodFile)
}

// secretName matches variable and key names that hold credentials.
var secretName = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY)`)

type varRef struct{ name, op, arg string }

// secretRefs returns every reference to a credential variable in the file.
func secretRefs(t *testing.T, file string) []varRef {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), file))
	if err != nil {
		t.Fatal(err)
	}
	var refs []varRef
	for _, m := range refRE.FindAllStringSubmatch(string(raw), -1) {
		if m[1] != "" && secretName.MatchString(m[1]) {
			refs = append(refs, varRef{m[1], m[2], m[3]})
		}
	}
	return refs
}

var (
	// credentialRef is a whole value that is one required variable, an optional one without a
	// default (nothing committed), or a shell variable of the container ($$NAME, expanded by
	// the container's shell from its environment).
	credentialRef = regexp.MustCompile(`^(\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*|:-)\}|\$\$[A-Za-z_][A-Za-z0-9_]*|"\$\$[A-Za-z_][A-Za-z0-9_]*")$`)
	// urlPassword finds the password of a URL with credentials.
	urlPassword = regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^:/@\s]*:([^@\s]+)@`)
	// flagPassword finds the value of a command-line password flag.
	flagPassword = regexp.MustCompile(`(?i)(?:^|\s)(--[a-z-]*pass[a-z-]*|-a)(?:=|\s+)("?\$*[^\s"]*"?)`)
	// shellSecret finds a credential assigned in a shell command (NAME=value).
	shellSecret = regexp.MustCompile(`(?:^|\s)([A-Za-z_]*(?:PASSWORD|SECRET|TOKEN|_AUTH)[A-Za-z_]*)=("?[^\s"]*"?)`)
)

// reporter is the part of testing.T the secret scan uses, so a test can check the scan itself.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func checkNoPlaintextSecrets(t *testing.T, file string) {
	t.Helper()
	checkNoPlaintextSecretsIn(t, filepath.Join(repoRoot(t), file))
}

// checkNoPlaintextSecretsIn walks every scalar of the file: values of credential keys, URL
// passwords, password flags and shell assignments of credentials must be variable references,
// never literals.
func checkNoPlaintextSecretsIn(r reporter, path string) {
	r.Helper()
	file := filepath.Base(path)
	raw, err := os.ReadFile(path)
	if err != nil {
		r.Errorf("%v", err)
		return
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		r.Errorf("%s: %v", file, err)
		return
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Kind == yaml.ScalarNode && secretName.MatchString(k.Value) && !credentialRef.MatchString(v.Value) {
					r.Errorf("%s:%d: %s = %q: a credential must be a variable reference (${%s:?...})", file, v.Line, k.Value, v.Value, k.Value)
				}
			}
		}
		if n.Kind == yaml.ScalarNode {
			for _, m := range urlPassword.FindAllStringSubmatch(n.Value, -1) {
				if !credentialRef.MatchString(m[1]) {
					r.Errorf("%s:%d: URL password %q in %q is not a variable reference", file, n.Line, m[1], n.Value)
				}
			}
			for _, re := range []*regexp.Regexp{flagPassword, shellSecret} {
				for _, m := range re.FindAllStringSubmatch(n.Value, -1) {
					if !credentialRef.MatchString(m[2]) {
						r.Errorf("%s:%d: %s %s: pass credentials through the environment", file, n.Line, m[1], m[2])
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
}

// TestComposeSecretScan shows the scan catches what it is for.
func TestComposeSecretScan(t *testing.T) {
	dir := t.TempDir()
	bad := `services:
  a:
    environment:
      POSTGRES_PASSWORD: hunter2
      DATABASE_URL: postgres://u:hunter2@db/x
    command: ["redis-server", "--requirepass hunter2"]
    healthcheck:
      test: ["CMD-SHELL", "REDISCLI_AUTH=hunter2 redis-cli ping"]
  b:
    environment:
      GRAFANA_ADMIN_PASSWORD: ${GRAFANA_ADMIN_PASSWORD:?set it}
      REDIS_URL: redis://:${REDIS_PASSWORD:?set it}@redis:6379/0
    command: ["sh", "-c", "exec redis-server --requirepass \"$$REDIS_PASSWORD\""]
    healthcheck:
      test: ["CMD-SHELL", "REDISCLI_AUTH=\"$$REDIS_PASSWORD\" redis-cli ping"]
`
	if err := os.WriteFile(filepath.Join(dir, "bad.yml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	checkNoPlaintextSecretsIn(rec, filepath.Join(dir, "bad.yml"))
	if len(rec.errs) != 4 {
		t.Errorf("scan found %d problems, want 4 (key, URL, flag, shell assignment):\n%s", len(rec.errs), strings.Join(rec.errs, "\n"))
	}
}
