package app_test

// The seven seeded sample workflows (API-CONTRACT.md section 12) run end to end through the
// HTTP API of a whole process: looked up by name, started with execute-async, polled on the
// status route until they finish.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/sampledata"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// sampleRun is the part of the run status object these tests read.
type sampleRun struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Result struct {
		CompletedTasks int `json:"completedTasks"`
		FailedTasks    int `json:"failedTasks"`
		SkippedTasks   int `json:"skippedTasks"`
		TotalTasks     int `json:"totalTasks"`
	} `json:"result"`
	Tasks []struct {
		NodeID      string     `json:"nodeId"`
		NodeType    string     `json:"nodeType"`
		Status      string     `json:"status"`
		StartedAt   *time.Time `json:"startedAt"`
		CompletedAt *time.Time `json:"completedAt"`
		Error       *string    `json:"error"`
	} `json:"tasks"`
	Logs []struct {
		Type    string  `json:"type"`
		Message string  `json:"message"`
		NodeID  *string `json:"nodeId"`
		Data    *struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"data"`
	} `json:"logs"`
}

// task returns the status of a node's task and how long it took.
func (r sampleRun) task(t *testing.T, nodeID string) (status string, took time.Duration) {
	t.Helper()
	for _, task := range r.Tasks {
		if task.NodeID == nodeID {
			if task.StartedAt != nil && task.CompletedAt != nil {
				took = task.CompletedAt.Sub(*task.StartedAt)
			}
			return task.Status, took
		}
	}
	t.Fatalf("run has no task for node %q", nodeID)
	return "", 0
}

// nodeLog returns a node's log message and kind; it fails when the node logged nothing.
func (r sampleRun) nodeLog(t *testing.T, nodeID string) (message, kind string) {
	t.Helper()
	for _, l := range r.Logs {
		if l.NodeID != nil && *l.NodeID == nodeID {
			if l.Data != nil {
				kind = l.Data.Kind
			}
			return l.Message, kind
		}
	}
	t.Fatalf("node %q wrote no log", nodeID)
	return "", ""
}

// response decodes the response an apiCall node logged ("...\nResponse: <JSON>").
func (r sampleRun) response(t *testing.T, nodeID string) map[string]any {
	t.Helper()
	msg, _ := r.nodeLog(t, nodeID)
	_, body, ok := strings.Cut(msg, "\nResponse: ")
	var out map[string]any
	if !ok || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("node %q log has no JSON response: %q", nodeID, msg)
	}
	return out
}

// wantLogContains fails unless the node's log contains every part.
func (r sampleRun) wantLogContains(t *testing.T, nodeID string, parts ...string) {
	t.Helper()
	msg, _ := r.nodeLog(t, nodeID)
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("node %q log lacks %q:\n%s", nodeID, p, msg)
		}
	}
}

// wantBranch checks that exactly taken of the two branch notifications ran and the other
// was skipped.
func (r sampleRun) wantBranch(t *testing.T, taken, notTaken string) {
	t.Helper()
	if s, _ := r.task(t, taken); s != "completed" {
		t.Errorf("branch %q is %s, want completed", taken, s)
	}
	if s, _ := r.task(t, notTaken); s != "skipped" {
		t.Errorf("branch %q is %s, want skipped", notTaken, s)
	}
}

// checkFinished checks what every sample run must satisfy.
func (r sampleRun) checkFinished(t *testing.T) {
	t.Helper()
	if r.Status != "succeeded" {
		t.Errorf("run status %q, want succeeded", r.Status)
	}
	counts := map[string]int{}
	for _, task := range r.Tasks {
		counts[task.Status]++
		switch task.Status {
		case "completed", "skipped":
		default:
			t.Errorf("task %s (%s) ended %s (error %v), want completed or skipped", task.NodeID, task.NodeType, task.Status, task.Error)
		}
	}
	res := r.Result
	if res.CompletedTasks+res.SkippedTasks != res.TotalTasks || res.TotalTasks != len(r.Tasks) || res.FailedTasks != 0 ||
		res.CompletedTasks != counts["completed"] || res.SkippedTasks != counts["skipped"] {
		t.Errorf("result %+v does not add up for %d tasks %v", res, len(r.Tasks), counts)
	}
	if len(r.Logs) < 2 {
		t.Fatalf("run has %d logs", len(r.Logs))
	}
	if first := r.Logs[0]; first.Type != "system" || first.Message != "Async workflow run started" || first.NodeID != nil {
		t.Errorf("first log %+v, want system \"Async workflow run started\"", first)
	}
	if last := r.Logs[len(r.Logs)-1]; last.Type != "system" || last.Message != "Workflow run succeeded" || last.NodeID != nil {
		t.Errorf("last log %+v, want system \"Workflow run succeeded\"", last)
	}
	for _, l := range r.Logs {
		if l.Type == "error" || (l.Data != nil && l.Data.Kind == "api-error") {
			t.Errorf("unexpected error log: %q", l.Message)
		}
	}
}

// sampleServer is a running process with the sample workflows seeded.
type sampleServer struct {
	url string
	ids map[string]string // workflow name -> id
}

func (s sampleServer) do(t *testing.T, method, path string, body any, want int) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
	return raw
}

// run starts a sample by name and polls its status every 10 ms until it is terminal.
func (s sampleServer) run(t *testing.T, name string, input map[string]any) sampleRun {
	t.Helper()
	id, ok := s.ids[name]
	if !ok {
		t.Fatalf("no sample workflow named %q among %v", name, s.ids)
	}
	var started struct {
		RunID string `json:"runId"`
	}
	if err := json.Unmarshal(s.do(t, "POST", "/workflows/"+id+"/execute-async", map[string]any{"input": input}, http.StatusCreated), &started); err != nil || started.RunID == "" {
		t.Fatalf("execute-async answered no runId: %v", err)
	}
	deadline := time.Now().Add(testenv.Scaled(60 * time.Second))
	for {
		var run sampleRun
		raw := s.do(t, "GET", "/workflows/"+id+"/runs/"+started.RunID+"/status", nil, http.StatusOK)
		if err := json.Unmarshal(raw, &run); err != nil {
			t.Fatalf("decode run status: %v: %s", err, raw)
		}
		switch run.Status {
		case "succeeded", "failed", "cancelled":
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s of %q still %s after %v: %s", started.RunID, name, run.Status, testenv.Scaled(60*time.Second), raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func sampleNumber(t *testing.T, m map[string]any, key string) float64 {
	t.Helper()
	n, ok := m[key].(float64)
	if !ok {
		t.Fatalf("%s = %#v, want a number", key, m[key])
	}
	return n
}

// sampleJSNumber formats a number as the notification templates render it (JavaScript String()).
func sampleJSNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// checkLead checks that the lead qualification run took the branch its score calls for.
func checkLead(t *testing.T, run sampleRun, company string, minScore float64) {
	t.Helper()
	scored := run.response(t, "lead-scoring-api")
	score := sampleNumber(t, scored, "score")
	t.Logf("lead score %v", score)
	if score < minScore || score > 100 || scored["company"] != company {
		t.Errorf("lead score response %v, want score %v..100 and company %q echoed", scored, minScore, company)
	}
	taken, other, label := "unqualified-alert", "qualified-alert", "Low Value"
	if score > 75 {
		taken, other, label = other, taken, "High Value"
	}
	run.wantBranch(t, taken, other)
	run.wantLogContains(t, "score-check", "If-Else condition evaluated to: "+label)
	run.wantLogContains(t, taken, "Score: "+sampleJSNumber(score)+"/100", "Company: "+company)
}

func TestSampleWorkflows(t *testing.T) {
	srv := apptest.Start(t, nil)
	s := sampleServer{url: srv.URL, ids: map[string]string{}}
	var list []struct{ ID, Name string }
	if err := json.Unmarshal(s.do(t, "GET", "/workflows", nil, http.StatusOK), &list); err != nil {
		t.Fatal(err)
	}
	for _, w := range list {
		s.ids[w.Name] = w.ID
	}
	automations, err := sampledata.Automations("http://localhost")
	if err != nil {
		t.Fatal(err)
	}
	if want := 7 + len(automations); len(s.ids) != want {
		t.Fatalf("%d sample workflows seeded, want the 7 originals and %d automation samples: %v", len(s.ids), len(automations), s.ids)
	}
	for _, a := range automations {
		if s.ids[a.Name] == "" {
			t.Errorf("automation sample %q (%s) was not seeded", a.Name, a.Key)
		}
	}

	// The slow ones come first so they start at once; the subtests run in parallel.
	for _, tc := range []struct {
		name     string
		workflow string
		input    map[string]any
		check    func(t *testing.T, run sampleRun)
	}{
		{"rate-limited fan-out", "🚦 Rate-limited fan-out", map[string]any{}, func(t *testing.T, run sampleRun) {
			if len(run.Tasks) != 10 {
				t.Errorf("%d tasks, want 10", len(run.Tasks))
			}
			for _, city := range []string{"london", "paris", "tokyo", "dubai", "oslo", "lima", "cairo", "sydney"} {
				if s, _ := run.task(t, "weather-"+city); s != "completed" {
					t.Errorf("weather-%s %s, want completed", city, s)
				}
			}
			run.wantLogContains(t, "summary", "Rate-limited fan-out done: London ")
		}},
		{"advanced building cooling", "🏢 Advanced Building Cooling System", map[string]any{}, func(t *testing.T, run sampleRun) {
			if len(run.Tasks) != 7 {
				t.Errorf("%d tasks, want 7", len(run.Tasks))
			}
			if s, took := run.task(t, "cooling-delay"); s != "completed" || took < 10*time.Second {
				t.Errorf("cooling-delay %s after %v, want completed after at least 10 s", s, took)
			}
			control := run.response(t, "ac-control")
			if control["action"] != "turn_on" {
				t.Errorf("ac-control response %v, want action turn_on (the body template was sent)", control)
			}
			temp := sampleNumber(t, run.response(t, "sensor-recheck"), "temperature")
			t.Logf("re-check temperature %v", temp)
			if temp > 30 {
				run.wantBranch(t, "manager-alert", "cooling-success")
				alert := run.response(t, "manager-alert")
				want := "Temperature alert in main_building: " + sampleJSNumber(temp) + "°C"
				if msg, _ := alert["message"].(string); !strings.Contains(msg, want) || alert["type"] != "cooling_ineffective" {
					t.Errorf("manager-alert response %v, want type cooling_ineffective and a message with %q (the body template was sent)", alert, want)
				}
			} else {
				run.wantBranch(t, "cooling-success", "manager-alert")
				run.wantLogContains(t, "cooling-success", "Cooling successful in main_building", "Now: "+sampleJSNumber(temp)+"°C")
			}
		}},
		{"weather for each city", "🔁 Weather for Each City", map[string]any{"cities": []any{"London", "Dubai", "Oslo"}}, func(t *testing.T, run sampleRun) {
			if len(run.Tasks) != 6 {
				t.Errorf("%d tasks, want 6 (3 nodes and 3 elements)", len(run.Tasks))
			}
			for i := range 3 {
				if s, _ := run.task(t, fmt.Sprintf("each-city[%d]", i)); s != "completed" {
					t.Errorf("element %d is %s, want completed", i, s)
				}
			}
			run.wantLogContains(t, "summary", "Checked 3 cities (0 failed)", "First: ")
		}},
		// The front end's run form sends its input field as text: the list typed as JSON.
		{"weather for each city, from the form", "🔁 Weather for Each City", map[string]any{"cities": `["Lima", "Cairo"]`}, func(t *testing.T, run sampleRun) {
			if len(run.Tasks) != 5 {
				t.Errorf("%d tasks, want 5 (3 nodes and 2 elements)", len(run.Tasks))
			}
			run.wantLogContains(t, "summary", "Checked 2 cities (0 failed)", "First: Lima")
		}},
		{"weather via sub-workflow", "🧩 Weather Digest via Sub-workflow", map[string]any{"city": "Oslo", "user_email": "ops@example.com"}, func(t *testing.T, run sampleRun) {
			if s, _ := run.task(t, "weather-alert"); s != "completed" {
				t.Errorf("weather-alert is %s, want completed", s)
			}
			run.wantLogContains(t, "digest", "Sub-workflow run ", " succeeded: Oslo is ")
		}},
		{"simple notification", "📧 Simple Notification", map[string]any{"recipient": "Bob", "message": "Server restarted", "priority": "high"}, func(t *testing.T, run sampleRun) {
			if s, took := run.task(t, "processing-delay"); s != "completed" || took < 5*time.Second {
				t.Errorf("processing-delay %s after %v, want completed after at least 5 s", s, took)
			}
			run.wantLogContains(t, "processing-delay", "Delay scheduled: 5 second(s)")
			run.wantLogContains(t, "send-message", "Message for Bob", "Priority: high", "Server restarted")
			if len(run.Tasks) != 3 || run.Result.CompletedTasks != 3 {
				t.Errorf("%d tasks, %d completed: want 3 and 3", len(run.Tasks), run.Result.CompletedTasks)
			}
		}},
		{"simple weather alert", "🌤️ Simple Weather Alert", map[string]any{"city": "Dubai", "user_email": "ops@example.com"}, func(t *testing.T, run sampleRun) {
			if len(run.Tasks) != 3 || run.Result.CompletedTasks != 3 {
				t.Errorf("%d tasks, %d completed: want 3 and 3", len(run.Tasks), run.Result.CompletedTasks)
			}
			if _, kind := run.nodeLog(t, "weather-api"); kind != "api" {
				t.Errorf("weather-api log kind %q, want api", kind)
			}
			run.wantLogContains(t, "weather-report", "Weather Report for Dubai", "Temperature: 35°C", "Humidity: 60%", "sunny", "ops@example.com")
		}},
		{"person enrichment", "👤 Person Enrichment", map[string]any{"firstName": "Ada", "lastName": "Lovelace", "company": "Analytical Engines"}, func(t *testing.T, run sampleRun) {
			if _, kind := run.nodeLog(t, "enrichment-api"); kind != "api" {
				t.Errorf("enrichment-api log kind %q, want api (the mock answers 201, which the sample expects)", kind)
			}
			person, _ := run.response(t, "enrichment-api")["person"].(map[string]any)
			if person["first_name"] != "Ada" || person["last_name"] != "Lovelace" {
				t.Fatalf("enrichment response person = %v, want Ada Lovelace (the body template was sent)", person)
			}
			org, _ := person["organization"].(map[string]any)
			run.wantLogContains(t, "enrichment-summary", "Looked up: Ada Lovelace (Analytical Engines)", "Found: Ada Lovelace",
				fmt.Sprint(person["email"]), fmt.Sprint(person["phone"]), fmt.Sprint(person["title"]), fmt.Sprint(org["domain"]))
			if !strings.HasPrefix(fmt.Sprint(person["email"]), "ada.lovelace@") {
				t.Errorf("email %v, want ada.lovelace@<domain>", person["email"])
			}
		}},
		{"temperature alert hot", "🔀 Temperature Alert System", map[string]any{"city": "Dubai"}, func(t *testing.T, run sampleRun) {
			run.wantBranch(t, "hot-alert", "normal-alert")
			run.wantLogContains(t, "temperature-check", "If-Else condition evaluated to: Hot Weather")
			run.wantLogContains(t, "hot-alert", "HOT WEATHER ALERT for Dubai", "35°C")
		}},
		{"temperature alert normal", "🔀 Temperature Alert System", map[string]any{"city": "London"}, func(t *testing.T, run sampleRun) {
			run.wantBranch(t, "normal-alert", "hot-alert")
			run.wantLogContains(t, "temperature-check", "If-Else condition evaluated to: Normal Weather")
			run.wantLogContains(t, "normal-alert", "Normal weather in London", "15°C")
		}},
		{"linkedin lead qualification", "🎯 LinkedIn Lead Qualification", map[string]any{"lead_source": "LinkedIn", "company": "TechCorp Inc", "title": "CEO", "email": "ceo@techcorp.com"}, func(t *testing.T, run sampleRun) {
			checkLead(t, run, "TechCorp Inc", 65) // LinkedIn and CEO bonuses: at least 50+5+10
		}},
		{"website lead qualification", "🎯 LinkedIn Lead Qualification", map[string]any{"lead_source": "Website", "company": "Small Shop", "title": "Engineer", "email": "dev@shop.example"}, func(t *testing.T, run sampleRun) {
			checkLead(t, run, "Small Shop", 50) // no bonus: 50..89, either branch
		}},
		{"smart building cooling", "🏢 Smart Building Cooling System", map[string]any{"zone": "server_room"}, func(t *testing.T, run sampleRun) {
			reading := run.response(t, "temperature-sensor")
			temp := sampleNumber(t, reading, "temperature")
			t.Logf("temperature %v", temp)
			if reading["zone"] != "server_room" || reading["floor"] != "3" {
				t.Errorf("sensor response %v, want zone server_room floor 3 (the URL template was rendered)", reading)
			}
			taken, other := "normal-status", "cooling-alert"
			if temp > 30 {
				taken, other = other, taken
			}
			run.wantBranch(t, taken, other)
			run.wantLogContains(t, taken, "Current: "+sampleJSNumber(temp)+"°C", "Zone: server_room, floor 3")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := s.run(t, tc.workflow, tc.input)
			run.checkFinished(t)
			tc.check(t, run)
		})
	}
}
