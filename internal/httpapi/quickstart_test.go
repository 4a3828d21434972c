package httpapi_test

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// quickstartBlocks returns the fenced code blocks of docs/QUICKSTART.md in a language.
func quickstartBlocks(t *testing.T, lang string) []string {
	t.Helper()
	raw, err := os.ReadFile("../../docs/QUICKSTART.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?ms)^```" + lang + "\n(.*?)^```")
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestQuickstartWorkflow runs the quickstart: its workflow is accepted, runs with the input
// it shows, takes the branch it shows, and its broken example is refused with the message it
// shows.
func TestQuickstartWorkflow(t *testing.T) {
	t.Parallel()
	base := start(t)
	var body string
	for _, b := range quickstartBlocks(t, "json") {
		if strings.Contains(b, `"My first workflow"`) {
			body = b
		}
	}
	if body == "" {
		t.Fatal("the quickstart has no workflow")
	}
	// The mock endpoint the quickstart calls is on this test's own server.
	body = strings.ReplaceAll(body, "http://localhost:3000", base)
	created := call(t, "POST", base+"/workflows", body).object(t, http.StatusCreated)
	id := created["id"].(string)
	if created["version"] != float64(1) {
		t.Errorf("version %v, want 1", created["version"])
	}
	runID := call(t, "POST", base+"/workflows/"+id+"/execute-async", `{"input": {"city": "Dubai"}}`).object(t, http.StatusCreated)["runId"].(string)
	var run map[string]any
	testenv.WaitFor(t, 30*time.Second, "the quickstart run to finish", func() bool {
		run = call(t, "GET", base+"/workflows/"+id+"/runs/"+runID+"/status", nil).object(t, http.StatusOK)
		return run["status"] == "succeeded" || run["status"] == "failed"
	})
	if run["status"] != "succeeded" {
		t.Fatalf("run %v: %v", run["status"], run["error"])
	}
	want := map[string]string{"city-input": "completed", "fetch-weather": "completed", "is-hot": "completed", "hot-alert": "completed", "mild-note": "skipped"}
	for _, task := range asObjects(t, arrayField(t, run, "tasks")) {
		if want[task["nodeId"].(string)] != task["status"] {
			t.Errorf("task %v is %v, want %v", task["nodeId"], task["status"], want[task["nodeId"].(string)])
		}
	}
	logs := call(t, "GET", base+"/workflows/"+id+"/runs/"+runID+"/logs", nil).object(t, http.StatusOK)
	var messages []string
	for _, l := range asObjects(t, arrayField(t, logs, "logs")) {
		messages = append(messages, l["message"].(string))
	}
	joined := strings.Join(messages, "\n")
	for _, m := range []string{"Async workflow run started", `Input: {"city":"Dubai"}`, "If-Else condition evaluated to: Hot",
		"It is 35°C in Dubai: stay in the shade.", "Workflow run succeeded"} {
		if !strings.Contains(joined, m) {
			t.Errorf("the logs lack %q:\n%s", m, joined)
		}
	}

	// The broken example and the answer the quickstart prints.
	var broken, answer string
	for _, b := range quickstartBlocks(t, "sh") {
		if i := strings.Index(b, `"name": "broken"`); i >= 0 {
			start := strings.Index(b, "-d '") + len("-d '")
			broken = b[start : start+strings.Index(b[start:], "'")]
			answer = strings.TrimSpace(b[strings.Index(b, "# {")+2:])
		}
	}
	if broken == "" {
		t.Fatal("the quickstart has no broken example")
	}
	got := call(t, "POST", base+"/workflows", broken)
	got.object(t, http.StatusBadRequest)
	sameJSON(t, "the broken example's answer", decodeJSON(t, []byte(answer)), decodeJSON(t, got.raw))

	// Step 6: the edited workflow is accepted as GET returned it.
	current := call(t, "GET", base+"/workflows/"+id, nil)
	if put := call(t, "PUT", base+"/workflows/"+id, current.raw).object(t, http.StatusOK); put["version"] != float64(2) {
		t.Errorf("version after PUT %v, want 2", put["version"])
	}
}
