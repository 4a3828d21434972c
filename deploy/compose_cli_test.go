package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// composeCLI returns the command line of an installed Compose: the Docker CLI plugin
// (`docker compose`, v2) or the standalone docker-compose (Debian ships v1, which validates the
// same schema for every key these files use).
func composeCLI() (argv []string, version string) {
	if out, err := exec.Command("docker", "compose", "version", "--short").Output(); err == nil {
		return []string{"docker", "compose"}, strings.TrimSpace(string(out))
	}
	if path, err := exec.LookPath("docker-compose"); err == nil {
		out, _ := exec.Command(path, "version", "--short").Output()
		return []string{path}, strings.TrimSpace(string(out))
	}
	return nil, ""
}

// TestComposeConfig validates both files with Compose itself (`config -q`: schema,
// interpolation, references between services) when it is installed; CI installs Debian's
// docker-compose. Without it, the Go checks of this package are the validation.
func TestComposeConfig(t *testing.T) {
	cli, version := composeCLI()
	if cli == nil {
		t.Log("neither `docker compose` nor docker-compose is installed: only the Go checks ran (CI installs docker-compose)")
		return
	}
	t.Logf("validating with %s %s", strings.Join(cli, " "), version)
	root := repoRoot(t)
	dir := t.TempDir()
	emptyEnv := filepath.Join(dir, "empty.env")
	if err := os.WriteFile(emptyEnv, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The environment of the runs below: the test's own (Docker finds its CLI plugins through
	// HOME and DOCKER_CONFIG) without COMPOSE_* settings and without any variable the files
	// refer to, so a developer's shell or .env cannot change the outcome.
	referenced := map[string]bool{}
	for _, file := range []string{devFile, prodFile} {
		raw, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range refRE.FindAllStringSubmatch(string(raw), -1) {
			referenced[m[1]+m[4]] = true
		}
	}
	var baseEnv []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !referenced[name] && !strings.HasPrefix(name, "COMPOSE_") {
			baseEnv = append(baseEnv, kv)
		}
	}
	// config runs Compose on file with vars added to the environment and envFile as .env.
	config := func(file, envFile string, vars map[string]string) (string, error) {
		args := append(cli[1:len(cli):len(cli)], "--project-directory", root, "--env-file", envFile, "-f", file, "config", "-q")
		cmd := exec.Command(cli[0], args...)
		cmd.Dir = root
		cmd.Env = slices.Clone(baseEnv)
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, tc := range []struct {
		name    string
		file    string
		envFile string
		vars    map[string]string
		fails   string // a substring of the expected error; "" when valid
	}{
		{"dev with defaults", devFile, emptyEnv, nil, ""},
		{"dev with .env.example", devFile, filepath.Join(root, ".env.example"), nil, ""},
		{"prod with passwords", prodFile, emptyEnv, prodSecrets, ""},
		{"prod without passwords", prodFile, emptyEnv, nil, "PASSWORD"},
		{"prod without API_KEYS", prodFile, emptyEnv, without(prodSecrets, "API_KEYS"), "API_KEYS"},
		{"prod with .env.example (passwords empty)", prodFile, filepath.Join(root, ".env.example"), nil, "PASSWORD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := config(filepath.Join(root, tc.file), tc.envFile, tc.vars)
			switch {
			case tc.fails == "" && err != nil:
				t.Errorf("%s config: %v\n%s", tc.file, err, out)
			case tc.fails != "" && err == nil:
				t.Errorf("%s config succeeded, want a failure mentioning %q", tc.file, tc.fails)
			case tc.fails != "" && !strings.Contains(out, tc.fails):
				t.Errorf("%s config failed with %q, want it to mention %q", tc.file, out, tc.fails)
			}
		})
	}
	t.Run("rejects an unknown key", func(t *testing.T) {
		// The validator must be able to fail: a misspelled key in a copy of the dev file.
		raw, err := os.ReadFile(filepath.Join(root, devFile))
		if err != nil {
			t.Fatal(err)
		}
		broken := strings.Replace(string(raw), "    healthcheck:\n", "    healtcheck:\n", 1)
		file := filepath.Join(dir, "broken.yml")
		if err := os.WriteFile(file, []byte(broken), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := config(file, emptyEnv, nil); err == nil || !strings.Contains(out, "healtcheck") {
			t.Errorf("config accepted a misspelled key (err %v):\n%s", err, out)
		}
	})
}
