package deploy_test

import (
	"errors"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// requiredMounts are the configuration mounts of the observability services: container path ->
// repository path. The files are the observability work's (ARCHITECTURE.md: deploy/prometheus
// holds prometheus.yml and alert rules, deploy/grafana provisioning and dashboards).
var requiredMounts = map[string]map[string]string{
	"prometheus": {
		"/etc/prometheus/prometheus.yml": "./deploy/prometheus/prometheus.yml",
		"/etc/prometheus/rules":          "./deploy/prometheus/rules",
	},
	"alertmanager": {
		"/etc/alertmanager/alertmanager.yml": "./deploy/alertmanager/alertmanager.yml",
	},
	"grafana": {
		"/etc/grafana/provisioning":   "./deploy/grafana/provisioning",
		"/var/lib/grafana/dashboards": "./deploy/grafana/dashboards",
	},
}

// TestComposeMounts checks that every bind mount and build context exists in the repository
// (a missing bind source makes Docker mount an empty directory in its place) and that the
// Prometheus and Grafana configuration refers to paths inside its mounts and to services of the
// stack.
func TestComposeMounts(t *testing.T) {
	root := repoRoot(t)
	for _, file := range []string{devFile, prodFile} {
		cf := loadCompose(t, file)
		for _, name := range sortedKeys(cf.Services) {
			s := cf.Services[name]
			for _, v := range s.Volumes {
				source, target, bind := volumeSource(v)
				if !bind {
					continue
				}
				info, err := os.Stat(filepath.Join(root, source))
				switch {
				case err != nil:
					t.Errorf("%s: %s mounts %s on %s, which does not exist in the repository: %v", file, name, source, target, err)
				case isFileTarget(target) && info.IsDir():
					t.Errorf("%s: %s mounts directory %s on file path %s", file, name, source, target)
				}
			}
			if s.Build != nil {
				if _, err := os.Stat(filepath.Join(root, s.Build.Context, cmpOr(s.Build.Dockerfile, "Dockerfile"))); err != nil {
					t.Errorf("%s: %s builds from %s: %v", file, name, s.Build.Context, err)
				}
			}
		}
		for svc, mounts := range requiredMounts {
			got := mountsOf(cf.Services[svc])
			for target, source := range mounts {
				if got[target] != source {
					t.Errorf("%s: %s should mount %s on %s, mounts %v", file, svc, source, target, got)
				}
			}
		}
		if file == devFile {
			checkPrometheusConfig(t, cf)
			checkGrafanaProvisioning(t, cf)
		}
	}
}

func isFileTarget(target string) bool {
	return slices.Contains([]string{".yml", ".yaml", ".json", ".conf"}, path.Ext(target))
}

// mountsOf returns a service's bind mounts: container path -> repository path.
func mountsOf(s *service) map[string]string {
	m := map[string]string{}
	if s == nil {
		return m
	}
	for _, v := range s.Volumes {
		if source, target, bind := volumeSource(v); bind {
			m[target] = source
		}
	}
	return m
}

// hostPath maps a path inside a container to the repository through the service's mounts.
func hostPath(root string, s *service, containerPath string) (string, bool) {
	for target, source := range mountsOf(s) {
		if containerPath == target || strings.HasPrefix(containerPath, target+"/") {
			return filepath.Join(root, source, strings.TrimPrefix(containerPath, target)), true
		}
	}
	return "", false
}

func readYAML(t *testing.T, file string, v any) bool {
	t.Helper()
	raw, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return false // reported by the mount checks
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Errorf("%s: %v", file, err)
		return false
	}
	return true
}

// checkPrometheusConfig: rule files resolve inside the rules mount and match files; scrape
// targets are services of the stack, including api and worker.
func checkPrometheusConfig(t *testing.T, cf *composeFile) {
	t.Helper()
	root := repoRoot(t)
	var cfg struct {
		RuleFiles []string `yaml:"rule_files"`
		Alerting  struct {
			Alertmanagers []struct {
				StaticConfigs []struct {
					Targets []string `yaml:"targets"`
				} `yaml:"static_configs"`
			} `yaml:"alertmanagers"`
		} `yaml:"alerting"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
			DNSSDConfigs []struct {
				Names []string `yaml:"names"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	if !readYAML(t, filepath.Join(root, "deploy/prometheus/prometheus.yml"), &cfg) {
		return
	}
	prom := cf.Services["prometheus"]
	if len(cfg.RuleFiles) == 0 {
		t.Errorf("deploy/prometheus/prometheus.yml loads no rule_files: the alert rules in deploy/prometheus/rules would not be evaluated")
	}
	for _, pattern := range cfg.RuleFiles {
		if !path.IsAbs(pattern) {
			pattern = path.Join("/etc/prometheus", pattern) // relative to the config file
		}
		host, ok := hostPath(root, prom, pattern)
		if !ok {
			t.Errorf("prometheus.yml rule_files %q is outside the mounts %v", pattern, mountsOf(prom))
			continue
		}
		if matches, _ := filepath.Glob(host); len(matches) == 0 {
			t.Errorf("prometheus.yml rule_files %q matches no file (looked for %s)", pattern, host)
		}
	}
	// Alerts are sent to the stack's Alertmanager, and only there.
	var alertTargets []string
	for _, am := range cfg.Alerting.Alertmanagers {
		for _, st := range am.StaticConfigs {
			alertTargets = append(alertTargets, st.Targets...)
		}
	}
	if !slices.Equal(alertTargets, []string{"alertmanager:9093"}) {
		t.Errorf("prometheus.yml alerting sends to %v, want [alertmanager:9093], the stack's Alertmanager", alertTargets)
	}
	if cf.Services["alertmanager"] == nil {
		t.Errorf("the stack has no alertmanager service for prometheus.yml's alerting section")
	}
	scraped := map[string]bool{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, _, err := net.SplitHostPort(target)
				if err != nil {
					t.Errorf("prometheus job %s target %q: %v", sc.JobName, target, err)
					continue
				}
				scraped[host] = true
				if cf.Services[host] == nil && host != "localhost" && host != "127.0.0.1" {
					t.Errorf("prometheus job %s scrapes %q, which is no service of the stack", sc.JobName, target)
				}
			}
		}
		for _, dns := range sc.DNSSDConfigs {
			for _, n := range dns.Names {
				scraped[n] = true
				if cf.Services[n] == nil {
					t.Errorf("prometheus job %s discovers %q, which is no service of the stack", sc.JobName, n)
				}
			}
		}
	}
	for _, want := range []string{"api", "worker"} {
		if !scraped[want] {
			t.Errorf("prometheus.yml does not scrape %s (scrapes %v); workers need dns_sd_configs (names: [worker]) to find every replica", want, sortedKeys(scraped))
		}
	}
}

// checkGrafanaProvisioning: datasources point at services of the stack and dashboard providers
// read a mounted directory that holds dashboards.
func checkGrafanaProvisioning(t *testing.T, cf *composeFile) {
	t.Helper()
	root := repoRoot(t)
	graf := cf.Services["grafana"]
	sources, _ := filepath.Glob(filepath.Join(root, "deploy/grafana/provisioning/datasources/*.y*ml"))
	providers, _ := filepath.Glob(filepath.Join(root, "deploy/grafana/provisioning/dashboards/*.y*ml"))
	if _, err := os.Stat(filepath.Join(root, "deploy/grafana/provisioning")); err != nil {
		return // reported by the mount checks
	}
	if len(sources) == 0 || len(providers) == 0 {
		t.Errorf("deploy/grafana/provisioning needs datasources/*.yaml and dashboards/*.yaml; found %v and %v", sources, providers)
	}
	for _, f := range sources {
		var ds struct {
			Datasources []struct {
				Name string `yaml:"name"`
				URL  string `yaml:"url"`
			} `yaml:"datasources"`
		}
		readYAML(t, f, &ds)
		for _, d := range ds.Datasources {
			u, err := url.Parse(d.URL)
			if err != nil || cf.Services[u.Hostname()] == nil {
				t.Errorf("%s: datasource %s URL %q is not a service of the stack", filepath.Base(f), d.Name, d.URL)
			}
		}
	}
	for _, f := range providers {
		var dp struct {
			Providers []struct {
				Name    string `yaml:"name"`
				Options struct {
					Path string `yaml:"path"`
				} `yaml:"options"`
			} `yaml:"providers"`
		}
		readYAML(t, f, &dp)
		for _, p := range dp.Providers {
			host, ok := hostPath(root, graf, p.Options.Path)
			if !ok {
				t.Errorf("%s: provider %s reads %q, outside grafana's mounts %v", filepath.Base(f), p.Name, p.Options.Path, mountsOf(graf))
				continue
			}
			if matches, _ := filepath.Glob(filepath.Join(host, "*.json")); len(matches) == 0 {
				if sub, _ := filepath.Glob(filepath.Join(host, "*", "*.json")); len(sub) == 0 {
					t.Errorf("%s: provider %s reads %s, which holds no dashboard JSON", filepath.Base(f), p.Name, host)
				}
			}
		}
	}
}
