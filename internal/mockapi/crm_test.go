package mockapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHubspotCreateContact(t *testing.T) {
	t.Parallel()
	serverKeys := `"createdate":"` + testNowISO + `","lastmodifieddate":"` + testNowISO +
		`","hs_object_id":"contact_` + testMS + `"`
	tests := []struct {
		name, body, wantProps string // raw JSON the properties start with
		contains              string
	}{
		{"no properties", ``, `{` + serverKeys, ""},
		{"spread first, in order", `{"properties":{"email":"a@b.c","firstname":"Ada"}}`,
			`{"email":"a@b.c","firstname":"Ada",` + serverKeys, ""},
		{"server keys win but keep the client's position",
			`{"properties":{"hs_lead_score":"x","createdate":"old","email":"a@b.c"}}`,
			`{"hs_lead_score":`, `,"createdate":"` + testNowISO + `","email":"a@b.c","lastmodifieddate":`},
		{"index keys first, ascending", `{"properties":{"b":1,"10":2,"2":3,"01":4}}`,
			`{"2":3,"10":2,"b":1,"01":4,` + serverKeys, ""},
		{"duplicate key: first position, last value", `{"properties":{"a":1,"b":2,"a":3}}`,
			`{"a":3,"b":2,` + serverKeys, ""},
		{"nested values echoed", `{"properties":{"tags":["x",{"y":null}]}}`,
			`{"tags":["x",{"y":null}],` + serverKeys, ""},
		{"array spreads by index", `{"properties":["x","y"]}`, `{"0":"x","1":"y",` + serverKeys, ""},
		{"string spreads by character", `{"properties":"hé"}`, `{"0":"h","1":"é",` + serverKeys, ""},
		{"scalars spread nothing", `{"properties":7}`, `{` + serverKeys, ""},
		{"null spreads nothing", `{"properties":null}`, `{` + serverKeys, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/hubspot/contacts", tc.body).mustStatus(t, 201)
			props := extractRaw(t, res.raw, "properties")
			if !strings.HasPrefix(props, tc.wantProps) || !strings.Contains(props, tc.contains) {
				t.Errorf("properties\n got %s\nwant prefix %s and %s", props, tc.wantProps, tc.contains)
			}
			if res.str(t, "properties.createdate") != testNowISO || res.str(t, "properties.hs_object_id") != "contact_"+testMS {
				t.Errorf("server keys must override the client's: %s", props)
			}
			if s := res.num(t, "properties.hs_lead_score"); s < 0 || s > 99 {
				t.Errorf("hs_lead_score %v", s)
			}
			want := map[string]any{"id": "hubspot_" + testMS, "createdAt": testNowISO, "updatedAt": testNowISO, "archived": false}
			got := map[string]any{"id": res.at(t, "id"), "createdAt": res.at(t, "createdAt"),
				"updatedAt": res.at(t, "updatedAt"), "archived": res.at(t, "archived")}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("envelope (-want +got):\n%s", diff)
			}
		})
	}

	h := newTestHandler(6)
	score := newSpan()
	for range manyRequest {
		score.add(send(t, h, http.MethodPost, Prefix+"/mock/hubspot/contacts", "").num(t, "properties.hs_lead_score"))
	}
	checkInclusiveRange(t, "hs_lead_score", score, 0, 99)
}

// extractRaw returns the raw JSON text of a top-level object member, so key
// order can be asserted.
func extractRaw(t testing.TB, raw, key string) string {
	t.Helper()
	_, rest, ok := strings.Cut(raw, `"`+key+`":`)
	if !ok {
		t.Fatalf("no %q in %s", key, raw)
	}
	depth := 0
	for i, r := range rest {
		switch r {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return rest[:i+1]
			}
		}
	}
	t.Fatalf("unterminated %q in %s", key, raw)
	return ""
}

func TestHubspotUpdateContact(t *testing.T) {
	t.Parallel()
	res := send(t, newTestHandler(1), http.MethodPatch, Prefix+"/mock/hubspot/contacts/c-77",
		`{"properties":{"hs_object_id":"spoofed","lifecyclestage":"lead"}}`).mustStatus(t, 200)
	want := `{"id":"c-77","properties":{"hs_object_id":"c-77","lifecyclestage":"lead","lastmodifieddate":"` +
		testNowISO + `"},"updatedAt":"` + testNowISO + `"}`
	if res.raw != want {
		t.Errorf("answer\n got %s\nwant %s", res.raw, want)
	}
}

func TestLemlistAddLead(t *testing.T) {
	t.Parallel()
	tomorrow := isoAt(24 * time.Hour)
	tests := []struct {
		name, path, body, want string
	}{
		{"all fields", "cmp_9",
			`{"email":"a@b.c","firstName":"Ada","lastName":"Lovelace","companyName":"AE","extra":1}`,
			`{"leadId":"lemlist_lead_` + testMS + `","campaignId":"cmp_9","email":"a@b.c","firstName":"Ada",` +
				`"lastName":"Lovelace","companyName":"AE","status":"added","scheduledAt":"` + tomorrow +
				`","sequence_step":1,"unsubscribed":false,"bounced":false}`},
		{"unsent fields left out, null kept", "c%20d", `{"email":null}`,
			`{"leadId":"lemlist_lead_` + testMS + `","campaignId":"c d","email":null,"status":"added","scheduledAt":"` +
				tomorrow + `","sequence_step":1,"unsubscribed":false,"bounced":false}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/lemlist/campaigns/"+tc.path+"/leads", tc.body).mustStatus(t, 201)
			if res.raw != tc.want {
				t.Errorf("answer\n got %s\nwant %s", res.raw, tc.want)
			}
		})
	}
}

func TestOutreachCreateProspect(t *testing.T) {
	t.Parallel()
	res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/outreach/prospects",
		`{"email":"a@b.c","title":"CTO"}`).mustStatus(t, 201)
	want := `{"id":"outreach_prospect_` + testMS + `","type":"prospect","attributes":{"email":"a@b.c","title":"CTO",` +
		`"stage":"prospect","starred":false,"tags":[],"createdAt":"` + testNowISO + `","updatedAt":"` + testNowISO +
		`"},"relationships":{"account":{"data":{"type":"account","id":"account_` + testMS + `"}}}}`
	if res.raw != want {
		t.Errorf("answer\n got %s\nwant %s", res.raw, want)
	}
}

func TestSalesforceCreateLead(t *testing.T) {
	t.Parallel()
	tail := `"LeadSource":"Web","CreatedDate":"` + testNowISO + `","LastModifiedDate":"` + testNowISO + `"}}`
	head := `{"id":"sf_lead_` + testMS + `","success":true,"attributes":{`
	tests := []struct {
		name, body, want string
	}{
		{"all fields", `{"FirstName":"Ada","LastName":"L","Email":"a@b.c","Company":"AE","Status":"Working"}`,
			head + `"FirstName":"Ada","LastName":"L","Email":"a@b.c","Company":"AE","Status":"Working",` + tail},
		{"Status defaults only when unsent", `{"Email":"a@b.c"}`,
			head + `"Email":"a@b.c","Status":"Open - Not Contacted",` + tail},
		{"sent null Status stays null", `{"Status":null}`, head + `"Status":null,` + tail},
		{"sent empty Status stays empty", `{"Status":""}`, head + `"Status":"",` + tail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/salesforce/leads", tc.body).mustStatus(t, 201)
			if res.raw != tc.want {
				t.Errorf("answer\n got %s\nwant %s", res.raw, tc.want)
			}
		})
	}
}
