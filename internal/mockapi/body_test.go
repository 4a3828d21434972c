package mockapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBodyParsing checks the shared body rules against the salesforce mock,
// which echoes Company and defaults Status only when it is undefined.
func TestBodyParsing(t *testing.T) {
	t.Parallel()
	const target = Prefix + "/mock/salesforce/leads"
	sent := `{"Company":"AE"}`
	tests := []struct {
		name, body, contentType string
		wantCompany             any // nil: left out
	}{
		{"no body", "", "", nil},
		{"JSON", sent, "application/json", "AE"},
		{"JSON with charset", sent, "application/json; charset=utf-8", "AE"},
		{"media type case-insensitive", sent, "Application/JSON", "AE"},
		{"text/plain is not read", sent, "text/plain", nil},
		{"no content type is not read", sent, "", nil},
		{"form body is not read", "Company=AE", "application/x-www-form-urlencoded", nil},
		{"vendor +json is not read", sent, "application/vnd.api+json", nil},
		{"empty JSON body", "", "application/json", nil},
		{"whitespace JSON body", " \n\t", "application/json", nil},
		{"top-level array reads as {}", `[{"Company":"AE"}]`, "application/json", nil},
		{"duplicate key: last wins", `{"Company":"A","Company":"B"}`, "application/json", "B"},
		{"null is echoed as null", `{"Company":null}`, "application/json", "null"},
		{"non-string echoed as sent", `{"Company":{"name":"AE","size":12}}`, "application/json",
			map[string]any{"name": "AE", "size": float64(12)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := sendCT(t, newTestHandler(1), http.MethodPost, target, tc.body, tc.contentType).mustStatus(t, 201)
			got, present := lookup(res.obj, "attributes.Company")
			switch {
			case tc.wantCompany == nil && present:
				t.Errorf("Company %v present; an unsent field must be left out", got)
			case tc.wantCompany == "null":
				if !present || got != nil {
					t.Errorf("Company %v (present %v), want JSON null", got, present)
				}
			case tc.wantCompany != nil:
				if diff := cmp.Diff(tc.wantCompany, got); diff != "" {
					t.Errorf("Company (-want +got):\n%s", diff)
				}
			}
			if tc.wantCompany == nil && res.str(t, "attributes.Status") != "Open - Not Contacted" {
				t.Errorf("Status default missing: %s", res.raw)
			}
		})
	}
}

func TestBodyErrors(t *testing.T) {
	t.Parallel()
	badRequest := map[string]any{
		"statusCode": float64(400), "message": "Unexpected token in JSON body", "error": "Bad Request",
	}
	tests := []struct {
		name, body string
		status     int
		want       map[string]any
	}{
		{"malformed object", `{"Company":`, 400, badRequest},
		{"trailing garbage", `{"a":1} x`, 400, badRequest},
		{"top-level string (strict mode)", `"AE"`, 400, badRequest},
		{"top-level number", `42`, 400, badRequest},
		{"top-level null", `null`, 400, badRequest},
		{"over 1 MB", `{"a":"` + strings.Repeat("x", maxBodyBytes) + `"}`, 413, map[string]any{
			"statusCode": float64(413), "message": "request entity too large", "error": "Payload Too Large",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/salesforce/leads", tc.body).mustStatus(t, tc.status)
			if diff := cmp.Diff(tc.want, res.obj); diff != "" {
				t.Errorf("error body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBodyJustUnderLimitIsRead(t *testing.T) {
	t.Parallel()
	pad := strings.Repeat("x", maxBodyBytes-100)
	res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/salesforce/leads",
		`{"pad":"`+pad+`","Company":"AE"}`).mustStatus(t, 201)
	if got := res.str(t, "attributes.Company"); got != "AE" {
		t.Errorf("Company %q", got)
	}
}
