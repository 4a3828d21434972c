package httpapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// A run whose nodes produce large outputs and log lines answers its status with a bounded
// body: log messages are previews, task outputs too large to inline are left out with a flag
// and a link to the full output, and logs come in pages whose cursors walk every line once.
func TestRunStatusBoundedWithLargeOutputs(t *testing.T) {
	t.Parallel()
	base := start(t)
	const fanOut, bigLen = 50, 100 << 10
	b := workflowtest.New().Input("in")
	for i := range fanOut {
		id := fmt.Sprintf("n%02d", i)
		b.Notify(id, "{{big}}").Chain("in", id)
	}
	id := createWorkflow(t, base, "large outputs", b.Build())
	big := strings.Repeat("x", bigLen)
	runID := startRun(t, base, id, map[string]any{"big": big})
	waitRun(t, base, runID)

	// Every node logged bigLen characters and output bigLen bytes: about 10 MB in all. The
	// status carries the run's input (bounded by the input limit) plus previews.
	status := call(t, "GET", base+"/workflows/"+id+"/runs/"+runID+"/status", nil)
	run := status.object(t, http.StatusOK)
	if limit := bigLen + 256<<10; len(status.raw) > limit {
		t.Fatalf("status response is %d bytes, want at most %d (input plus bounded previews)", len(status.raw), limit)
	}
	if run["status"] != "succeeded" {
		t.Fatalf("run %v, want succeeded", run["status"])
	}
	var outputURL string
	for _, task := range asObjects(t, arrayField(t, run, "tasks")) {
		if task["outputTruncated"] != true || task["output"] != nil {
			t.Errorf("task %v: outputTruncated %v, output %.40v: want a large output left out with a flag", task["nodeId"], task["outputTruncated"], task["output"])
		}
		if outputURL = str(t, task, "outputUrl"); !strings.HasSuffix(outputURL, "/tasks/"+str(t, task, "id")+"/output") {
			t.Errorf("task %v outputUrl %q, want its output route", task["nodeId"], outputURL)
		}
	}
	logs := asObjects(t, arrayField(t, run, "logs"))
	cut := 0
	for _, l := range logs {
		if l["messageTruncated"] == true {
			cut++
			if n := len([]rune(str(t, l, "message"))); n >= bigLen {
				t.Errorf("truncated log message of %d characters", n)
			}
			if u, _ := l["outputUrl"].(string); !strings.Contains(u, "/runs/"+runID+"/tasks/") {
				t.Errorf("truncated log of %v has outputUrl %q, want its task's output route", l["nodeId"], u)
			}
		}
	}
	if cut != fanOut+1 || run["logsNextCursor"] != nil {
		t.Errorf("%d truncated log lines and logsNextCursor %v, want %d and null (all lines fit the first page)", cut, run["logsNextCursor"], fanOut+1)
	}

	// The full output is one request away.
	full := call(t, "GET", base+outputURL, nil).object(t, http.StatusOK)
	if out := objectField(t, full, "output"); out["big"] != big {
		t.Errorf("full output has big of %d bytes, want %d", len(fmt.Sprint(out["big"])), bigLen)
	}
	short := strings.Replace(outputURL, "/workflows/"+id+"/runs/", "/workflows/runs/", 1)
	call(t, "GET", base+short, nil).object(t, http.StatusOK)
	other := createWorkflow(t, base, "other", smallDef())
	for _, wrong := range []string{
		strings.Replace(outputURL, id, other, 1),
		strings.Replace(outputURL, id, missingID, 1),
		regexp.MustCompile(`/tasks/[^/]+/`).ReplaceAllString(outputURL, "/tasks/"+missingID+"/"),
		regexp.MustCompile(`/tasks/[^/]+/`).ReplaceAllString(outputURL, "/tasks/urn:uuid:"+missingID+"/"),
	} {
		call(t, "GET", base+wrong, nil).wantError(t, http.StatusNotFound, "Task not found", "Not Found")
	}

	// Pages of 7 walk every line once, in order, each page bounded.
	var walked []any
	path := "/workflows/" + id + "/runs/" + runID + "/logs?limit=7"
	for pages := 0; ; pages++ {
		if pages > len(logs) {
			t.Fatal("more pages than log lines")
		}
		page := call(t, "GET", base+path, nil)
		got := page.object(t, http.StatusOK)
		if len(page.raw) > 7*8<<10 {
			t.Errorf("a page of 7 lines is %d bytes", len(page.raw))
		}
		walked = append(walked, arrayField(t, got, "logs")...)
		next, _ := got["nextCursor"].(string)
		if next == "" {
			break
		}
		path = "/workflows/" + id + "/runs/" + runID + "/logs?limit=7&cursor=" + next
	}
	if len(walked) != len(logs) {
		t.Fatalf("pages held %d lines, the status %d", len(walked), len(logs))
	}
	for i := range logs {
		if walked[i].(map[string]any)["id"] != logs[i]["id"] {
			t.Fatalf("line %d differs between pages and status", i)
		}
	}
	for _, q := range []string{"limit=0", "limit=x", "limit=100000", "cursor=garbage", "limit=%zz"} {
		msgs := call(t, "GET", base+"/workflows/"+id+"/runs/"+runID+"/logs?"+q, nil).wantProblem(t)
		if !strings.Contains(strings.Join(msgs, " "), strings.SplitN(q, "=", 2)[0]) {
			t.Errorf("logs?%s: %q, want the parameter named", q, msgs)
		}
	}
}

// The run list comes in pages (limit, cursor) newest first, with the next page in a Link
// header; without parameters it is the seed's plain array.
func TestRunListPages(t *testing.T) {
	t.Parallel()
	base := start(t)
	id := createWorkflow(t, base, "small", smallDef())
	var started []string
	for range 5 {
		started = append([]string{startRun(t, base, id, nil)}, started...)
	}
	all := call(t, "GET", base+"/workflows/"+id+"/runs", nil)
	if len(all.array(t, http.StatusOK)) != 5 || all.header.Get("Link") != "" {
		t.Fatalf("default list: %s with Link %q, want all 5 runs and no next page", all.raw, all.header.Get("Link"))
	}
	var ids []string
	next := base + "/workflows/" + id + "/runs?limit=2"
	linkRE := regexp.MustCompile(`^<([^>]+)>; rel="next"$`)
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("more pages than runs")
		}
		page := call(t, "GET", next, nil)
		runs := asObjects(t, page.array(t, http.StatusOK))
		if len(runs) > 2 {
			t.Fatalf("page of %d runs, limit 2", len(runs))
		}
		for _, r := range runs {
			ids = append(ids, str(t, r, "id"))
		}
		next = ""
		if link := page.header.Get("Link"); link != "" {
			m := linkRE.FindStringSubmatch(link)
			if m == nil || page.header.Get("X-Next-Cursor") == "" {
				t.Fatalf("Link %q, X-Next-Cursor %q: want a next link and its cursor", link, page.header.Get("X-Next-Cursor"))
			}
			next = base + m[1]
		}
	}
	if strings.Join(ids, ",") != strings.Join(started, ",") {
		t.Errorf("pages listed %v, want %v (newest first, each once)", ids, started)
	}
	for _, q := range []string{"limit=0", "limit=-3", "limit=1001", "cursor=nope", "cursor=%ZZ"} {
		msgs := call(t, "GET", base+"/workflows/"+id+"/runs?"+q, nil).wantProblem(t)
		if !strings.Contains(strings.Join(msgs, " "), strings.SplitN(q, "=", 2)[0]) {
			t.Errorf("runs?%s: %q, want the parameter named", q, msgs)
		}
	}
}
