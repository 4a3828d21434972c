package mockapi

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQualificationThresholds(t *testing.T) {
	t.Parallel()
	for score, want := range map[int]string{0: "Low", 50: "Low", 51: "Medium", 75: "Medium", 76: "High", 100: "High"} {
		if got := qualification(score); got != want {
			t.Errorf("qualification(%d) = %q, want %q", score, got, want)
		}
	}
}

func TestLeadScoring(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body              string
		sourceScore, titleScore float64
		lo, hi                  float64 // score bounds over many requests
	}{
		{"no boosts", `{}`, 15, 10, 50, 89},
		{"LinkedIn, exact match", `{"lead_source":"LinkedIn","title":"VP"}`, 25, 10, 55, 100},
		{"linkedin in another case is no boost", `{"lead_source":"linkedin"}`, 15, 10, 50, 89},
		{"ceo in any case", `{"title":"Co-Founder & Ceo"}`, 15, 20, 60, 100},
		{"both", `{"lead_source":"LinkedIn","title":"CEO"}`, 25, 20, 65, 100},
		{"non-string title converted, not thrown", `{"title":["CEO"]}`, 15, 20, 60, 100},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHandler(uint64(10 + i))
			score, engagement := newSpan(), newSpan()
			capped := 0
			for range manyRequest {
				res := send(t, h, http.MethodPost, Prefix+"/mock/lead-scoring/analyze", tc.body).mustStatus(t, 201)
				s := res.num(t, "score")
				score.add(s)
				engagement.add(res.num(t, "factors.engagement_score"))
				if s == 100 {
					capped++
				}
				if got := res.str(t, "qualification"); got != qualification(int(s)) {
					t.Fatalf("score %v qualified %q", s, got)
				}
				if res.num(t, "factors.lead_source_score") != tc.sourceScore || res.num(t, "factors.title_score") != tc.titleScore {
					t.Fatalf("factors %v", res.at(t, "factors"))
				}
			}
			if tc.hi == 100 { // sums of draws: the low end is too rare to insist on
				checkWithin(t, "score", score, tc.lo, tc.hi)
			} else {
				checkInclusiveRange(t, "score", score, tc.lo, tc.hi)
			}
			checkInclusiveRange(t, "engagement_score", engagement, 20, 49)
			if tc.hi == 100 && capped == 0 {
				t.Errorf("score never capped at 100")
			}
		})
	}
}

func TestLeadScoringEcho(t *testing.T) {
	t.Parallel()
	res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/lead-scoring/analyze",
		`{"company":"AE","email":"a@b.c","unused":1}`).mustStatus(t, 201)
	if res.str(t, "lead_id") != "lead_"+testMS || res.str(t, "timestamp") != testNowISO {
		t.Errorf("id/timestamp: %s", res.raw)
	}
	if res.has("lead_source") || res.has("title") || res.has("unused") {
		t.Errorf("unsent fields must be left out: %s", res.raw)
	}
	if res.str(t, "company") != "AE" || res.str(t, "email") != "a@b.c" {
		t.Errorf("echo: %s", res.raw)
	}
}

func TestAEAlert(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, message string
	}{
		{"all values", `{"company":"AE","title":"CEO","lead_source":"LinkedIn","score":92}`,
			"🚨 High-value lead detected! AE (CEO) from LinkedIn - Score: 92"},
		{"missing values print undefined", `{}`,
			"🚨 High-value lead detected! undefined (undefined) from undefined - Score: undefined"},
		{"JS string conversion", `{"company":null,"title":["a","b"],"lead_source":{"x":1},"score":8.50}`,
			"🚨 High-value lead detected! null (a,b) from [object Object] - Score: 8.5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/notifications/ae-alert", tc.body).mustStatus(t, 201)
			want := map[string]any{
				"notification_id": "notif_" + testMS, "type": "ae_alert", "status": "sent",
				"message": tc.message, "ae_name": "Sarah Johnson", "ae_email": "sarah.johnson@company.com",
				"sent_at": testNowISO, "channels": []any{"email", "slack", "mobile"},
			}
			if diff := cmp.Diff(want, res.obj); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFollowUpEmail(t *testing.T) {
	t.Parallel()
	res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/email/follow-up",
		`{"email":"a@b.c","company":"AE"}`).mustStatus(t, 201)
	if res.str(t, "recipient") != "a@b.c" || res.str(t, "subject") != "Following up on your interest - AE" ||
		res.str(t, "email_id") != "email_"+testMS || res.str(t, "delivery_time") != testNowISO ||
		res.str(t, "type") != "follow_up" || res.str(t, "status") != "sent" {
		t.Errorf("answer: %s", res.raw)
	}
	res = send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/email/follow-up", "").mustStatus(t, 201)
	if res.has("recipient") || res.str(t, "subject") != "Following up on your interest - undefined" {
		t.Errorf("without body: %s", res.raw)
	}

	h := newTestHandler(8)
	templates := map[string]bool{}
	opened, clicked := 0, 0
	for range manyRequest {
		res := send(t, h, http.MethodPost, Prefix+"/mock/email/follow-up", "")
		templates[res.str(t, "template")] = true
		if !res.boolean(t, "tracking.delivered") {
			t.Fatal("delivered must always be true")
		}
		if res.boolean(t, "tracking.opened") {
			opened++
		}
		if res.boolean(t, "tracking.clicked") {
			clicked++
		}
	}
	checkDrawnFrom(t, "template", templates, newCatalog().emailTemplates)
	checkRate(t, "opened", opened, manyRequest, 0.7, 0.04)
	checkRate(t, "clicked", clicked, manyRequest, 0.3, 0.04)
}
