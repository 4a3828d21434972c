package mockapi

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var trackingPattern = regexp.MustCompile(`^GIFT(0|[1-9]\d{0,5})$`)

func TestGiftingSequence(t *testing.T) {
	t.Parallel()
	res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/campaigns/gifting-sequence",
		`{"lead_id":"lead_1","title":"CTO","company":"AE"}`).mustStatus(t, 201)
	if res.str(t, "lead_id") != "lead_1" || res.str(t, "personalization") != "Congratulations on your role as CTO at AE!" ||
		res.str(t, "sequence_id") != "gift_seq_"+testMS || res.str(t, "status") != "initiated" ||
		res.str(t, "estimated_delivery") != isoAt(3*24*time.Hour) || res.str(t, "initiated_at") != testNowISO {
		t.Errorf("answer: %s", res.raw)
	}
	res = send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/campaigns/gifting-sequence", "").mustStatus(t, 201)
	if res.has("lead_id") || res.str(t, "personalization") != "Congratulations on your role as undefined at undefined!" {
		t.Errorf("without body: %s", res.raw)
	}

	gifts := map[string]map[string]any{}
	for _, g := range newCatalog().gifts {
		gifts[g.Type] = map[string]any{"type": g.Type, "value": g.Value, "description": g.Description}
	}
	h := newTestHandler(9)
	seen := map[string]bool{}
	tracking := newSpan()
	for range manyRequest {
		res := send(t, h, http.MethodPost, Prefix+"/mock/campaigns/gifting-sequence", "")
		gift := res.at(t, "gift").(map[string]any)
		typ, _ := gift["type"].(string)
		if diff := cmp.Diff(gifts[typ], gift); diff != "" {
			t.Fatalf("gift (-table +got):\n%s", diff)
		}
		seen[typ] = true
		if want := gift["value"] == "$200"; res.boolean(t, "approval_required") != want {
			t.Fatalf("approval_required %v for %v", !want, gift)
		}
		m := trackingPattern.FindStringSubmatch(res.str(t, "tracking_number"))
		if m == nil {
			t.Fatalf("tracking_number %q", res.str(t, "tracking_number"))
		}
		n, _ := strconv.Atoi(m[1])
		tracking.add(float64(n))
	}
	if len(seen) != len(gifts) {
		t.Errorf("gifts drawn %v, want all of %d", seen, len(gifts))
	}
	checkWithin(t, "tracking number", tracking, 0, 999999)
	want := map[string]any{
		"premium_swag": "$50 Premium branded merchandise package", "gift_card": "$100 Amazon gift card",
		"experience": "$200 Executive lunch invitation", "book": "$30 Leadership book with personal note",
	}
	got := map[string]any{}
	for typ, g := range gifts {
		got[typ] = g["value"].(string) + " " + g["description"].(string)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("gift table (-want +got):\n%s", diff)
	}
}

func TestDripCampaign(t *testing.T) {
	t.Parallel()
	res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/campaigns/drip-campaign",
		`{"lead_id":"lead_1","email":"a@b.c","company":"AE"}`).mustStatus(t, 201)
	if res.str(t, "lead_id") != "lead_1" || res.str(t, "recipient") != "a@b.c" ||
		res.str(t, "personalization.company") != "AE" || res.has("personalization.title") ||
		res.str(t, "personalization.industry") != "Technology" || res.str(t, "campaign_id") != "drip_"+testMS ||
		res.str(t, "status") != "active" || res.num(t, "sequence_position") != 1 ||
		res.str(t, "next_email_date") != isoAt(24*time.Hour) || res.str(t, "started_at") != testNowISO {
		t.Errorf("answer: %s", res.raw)
	}

	plans := map[string][2]float64{ // name: total emails, duration days
		"enterprise_nurture": {8, 30}, "smb_conversion": {5, 14}, "industry_specific": {6, 21}, "product_education": {7, 28},
	}
	h := newTestHandler(10)
	seen := map[string]bool{}
	for range manyRequest / 4 {
		res := send(t, h, http.MethodPost, Prefix+"/mock/campaigns/drip-campaign", "")
		name := res.str(t, "campaign_name")
		plan, ok := plans[name]
		if !ok {
			t.Fatalf("campaign %q", name)
		}
		seen[name] = true
		days := time.Duration(plan[1]) * 24 * time.Hour
		if res.num(t, "total_emails") != plan[0] || res.str(t, "completion_date") != isoAt(days) {
			t.Fatalf("%s: %v emails, completion %s", name, res.num(t, "total_emails"), res.str(t, "completion_date"))
		}
	}
	if len(seen) != len(plans) {
		t.Errorf("campaigns drawn %v", seen)
	}
}
