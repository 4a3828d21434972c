package deploy_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	runbooksFile       = "../docs/RUNBOOKS.md"
	runbooksURL        = "https://github.com/sequenceflow/sequenceflow/blob/main/docs/RUNBOOKS.md#"
	alertmanagerConfig = "alertmanager/alertmanager.yml"
)

// runbookSections returns the sections of docs/RUNBOOKS.md by GitHub anchor (the heading in
// lower case, spaces as dashes, punctuation dropped) with their text.
func runbookSections(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(runbooksFile)
	if err != nil {
		t.Fatal(err)
	}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	sections := map[string]string{}
	anchor := ""
	for _, line := range strings.Split(string(raw), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			anchor = strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(strings.TrimSpace(h)), ""), " ", "-")
			sections[anchor] = ""
			continue
		}
		if anchor != "" {
			sections[anchor] += line + "\n"
		}
	}
	return sections
}

// dashboardUIDs returns the uid of every provisioned dashboard.
func dashboardUIDs(t *testing.T) map[string]bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(monDashboardsDir, "*.json"))
	uids := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			UID string `json:"uid"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		uids[d.UID] = true
	}
	return uids
}

// TestAlertsLinkRunbooksAndDashboards: every alert's runbook_url points at its own section of
// docs/RUNBOOKS.md, which says what it means, how to look and what to do, and its dashboard
// annotation at a provisioned dashboard.
func TestAlertsLinkRunbooksAndDashboards(t *testing.T) {
	t.Parallel()
	rules, err := monLoadRules(".")
	if err != nil {
		t.Fatal(err)
	}
	sections := runbookSections(t)
	uids := dashboardUIDs(t)
	alerts := 0
	for _, r := range rules {
		if !r.alert {
			continue
		}
		alerts++
		runbook := monStr(r.annotations["runbook_url"])
		anchor, ok := strings.CutPrefix(runbook, runbooksURL)
		switch {
		case !ok:
			t.Errorf("alert %s: runbook_url %q, want %s<anchor>", r.name, runbook, runbooksURL)
		case anchor != strings.ToLower(r.name):
			t.Errorf("alert %s: runbook_url anchor %q, want its own section #%s", r.name, anchor, strings.ToLower(r.name))
		default:
			text, found := sections[anchor]
			if !found {
				t.Errorf("alert %s: docs/RUNBOOKS.md has no section ## %s (anchor #%s)", r.name, r.name, anchor)
			}
			for _, part := range []string{"**What it means.**", "**How to look.**", "**What to do.**"} {
				if found && !strings.Contains(text, part) {
					t.Errorf("alert %s: its runbook section lacks %s", r.name, part)
				}
			}
		}
		dash, err := url.Parse(monStr(r.annotations["dashboard"]))
		uid, isDash := strings.CutPrefix(dash.Path, "/d/")
		if err != nil || dash.Scheme == "" || !isDash || !uids[uid] {
			t.Errorf("alert %s: dashboard %q is not a link to a provisioned dashboard (/d/<uid> of %v)", r.name, r.annotations["dashboard"], uids)
		}
	}
	if alerts == 0 {
		t.Fatal("no alerts found")
	}
	for anchor := range sections {
		if !strings.HasPrefix(anchor, "sequenceflow") {
			continue
		}
		used := false
		for _, r := range rules {
			used = used || (r.alert && strings.ToLower(r.name) == anchor)
		}
		if !used {
			t.Errorf("docs/RUNBOOKS.md has a section #%s for no alert", anchor)
		}
	}
}

// TestAlertmanagerConfig: the stack's Alertmanager routes every alert to a webhook receiver
// that also reports resolutions, and amtool accepts the file.
func TestAlertmanagerConfig(t *testing.T) {
	t.Parallel()
	cfg := monYAMLFile(t, alertmanagerConfig)
	route := monMap(cfg["route"])
	receivers := map[string]map[string]any{}
	for _, r := range monList(cfg["receivers"]) {
		receivers[monStr(monMap(r)["name"])] = monMap(r)
	}
	def := receivers[monStr(route["receiver"])]
	if def == nil {
		t.Fatalf("route's default receiver %q is not defined (receivers %v)", route["receiver"], receivers)
	}
	hooks := monList(def["webhook_configs"])
	if len(hooks) == 0 {
		t.Fatalf("default receiver %q has no webhook_configs", route["receiver"])
	}
	for _, h := range hooks {
		if fmt.Sprint(monMap(h)["send_resolved"]) != "true" {
			t.Errorf("webhook %v does not send resolutions: the receiver would never hear an alert end", h)
		}
		u, err := url.Parse(monStr(monMap(h)["url"]))
		if err != nil || u.Host == "" {
			t.Errorf("webhook url %q is not an absolute URL", monMap(h)["url"])
			continue
		}
		// Both stacks run the receiver the default webhook names, listening where it points.
		for _, file := range []string{devFile, prodFile} {
			svc := loadCompose(t, file).Services[u.Hostname()]
			if svc == nil {
				t.Errorf("%s has no service %q to receive the default webhook %s", file, u.Hostname(), u)
				continue
			}
			if want := []string{"alert-log", ":" + u.Port()}; !slices.Equal(svc.Command, want) || !slices.Contains(svc.Expose, u.Port()) {
				t.Errorf("%s: service %s runs %v exposing %v, want %v exposing %s", file, u.Hostname(), svc.Command, svc.Expose, want, u.Port())
			}
			if u.Path != "/alerts" {
				t.Errorf("webhook path %q: the receiver serves /alerts", u.Path)
			}
		}
	}

	amtool, err := exec.LookPath("amtool")
	if err != nil {
		t.Fatalf("amtool is not installed (%v): apt-get install -y prometheus-alertmanager (.ci/run installs it when missing)", err)
	}
	out, err := monRun(t, amtool, "check-config", alertmanagerConfig)
	if err != nil || !strings.Contains(out, "SUCCESS") {
		t.Fatalf("amtool check-config %s: %v\n%s", alertmanagerConfig, err, out)
	}
}

// TestAlertmanagerInhibitionsNameAlerts: every inhibition's source and target match alerts the
// rules define (a renamed alert would silently end the inhibition), and the labels it requires
// equal are ones those alerts carry.
func TestAlertmanagerInhibitionsNameAlerts(t *testing.T) {
	t.Parallel()
	rules, err := monLoadRules(".")
	if err != nil {
		t.Fatal(err)
	}
	alerts := map[string]map[string]any{}
	for _, r := range rules {
		if r.alert {
			alerts[r.name] = r.labels
		}
	}
	matcher := regexp.MustCompile(`^alertname(=~|=)"(.+)"$`)
	cfg := monYAMLFile(t, alertmanagerConfig)
	for i, inh := range monList(cfg["inhibit_rules"]) {
		m := monMap(inh)
		for _, side := range []string{"source_matchers", "target_matchers"} {
			for _, s := range monList(m[side]) {
				mm := matcher.FindStringSubmatch(monStr(s))
				if mm == nil {
					continue
				}
				re := regexp.MustCompile("^(?:" + mm[2] + ")$")
				if mm[1] == "=" {
					re = regexp.MustCompile("^" + regexp.QuoteMeta(mm[2]) + "$")
				}
				matched := 0
				for name, labels := range alerts {
					if !re.MatchString(name) {
						continue
					}
					matched++
					for _, l := range monList(m["equal"]) {
						if _, ok := labels[monStr(l)]; !ok {
							t.Errorf("inhibit rule %d: alert %s has no label %s the rule requires equal", i, name, monStr(l))
						}
					}
				}
				if matched == 0 {
					t.Errorf("inhibit rule %d: %s %s matches no alert", i, side, monStr(s))
				}
			}
		}
	}
}
