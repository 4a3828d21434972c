package mockapi

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
)

// routeCase is one of the 23 routes with a body that sets every field the
// route reads, the exact shape of its answer, and the paths that echo a body
// field and must vanish when the body is empty.
type routeCase struct {
	method, path, body string
	status             int
	shape              map[string]string
	echoed             []string
}

const (
	str    = "string"
	num    = "number"
	boolT  = "bool"
	obj    = "object"
	strArr = "array<string>"
)

func allRouteCases() []routeCase {
	companies := map[string]string{"companies": "array<object>", "total_results": num, "page": num}
	for i := range 3 {
		p := fmt.Sprintf("companies.%d.", i)
		maps.Copy(companies, map[string]string{
			p + "id": str, p + "name": str, p + "domain": str, p + "industry": str,
			p + "employee_count": num, p + "headquarters": str, p + "annual_revenue": num,
			p + "founded_year": num, p + "technologies": strArr,
		})
	}
	liveSensor := func(prefix string) map[string]string {
		return map[string]string{
			prefix + "id": str, prefix + "zone": str, prefix + "temperature": num,
			prefix + "alert_level": str, prefix + "humidity": num, prefix + "timestamp": str,
			prefix + "requires_action": boolT, prefix + "sensor_id": str,
		}
	}
	trigger := map[string]string{
		"trigger_id": str, "workflow_name": str, "triggered": boolT, "reason": str, "zone": str,
		"sensor_data": obj, "next_action": str, "estimated_completion": "string|absent",
	}
	maps.Copy(trigger, liveSensor("sensor_data."))

	return []routeCase{
		{http.MethodGet, "/test-weather?city=Tokyo", "", 200, map[string]string{
			"id": str, "city": str, "name": str, "count": num, "value": str, "result": str,
			"message": str, "humidity": num, "condition": str, "temperature": num, "timestamp": str,
		}, nil},
		{http.MethodPost, "/mock/apollo/person-enrichment",
			`{"first_name":"Ada","last_name":"Lovelace","organization_name":"Analytical Engines"}`, 201,
			map[string]string{
				"person": obj, "person.id": str, "person.first_name": str, "person.last_name": str,
				"person.email": str, "person.phone": str, "person.title": str, "person.linkedin_url": str,
				"person.organization": obj, "person.organization.name": str, "person.organization.domain": str,
				"person.organization.industry": str, "person.organization.employee_count": num,
				"person.organization.annual_revenue": num, "enrichment_score": num, "data_sources": strArr,
			}, nil},
		{http.MethodGet, "/mock/apollo/company-search?industry=Fintech&size=200&location=Austin", "", 200, companies, nil},
		{http.MethodPost, "/mock/zoominfo/contact-enrichment",
			`{"email":"ada@example.com","firstName":"Ada","lastName":"Lovelace"}`, 201, map[string]string{
				"contact": obj, "contact.email": str, "contact.firstName": str, "contact.lastName": str,
				"contact.phone": str, "contact.title": str, "contact.company": str, "contact.department": str,
				"contact.seniority": str, "contact.linkedin": str, "contact.location": str,
				"contact.company_size": str, "contact.industry": str, "contact.technologies": strArr,
				"confidence_score": num, "last_updated": str,
			}, nil},
		{http.MethodPost, "/mock/hubspot/contacts", `{"properties":{"email":"ada@example.com","firstname":"Ada"}}`, 201,
			map[string]string{
				"id": str, "properties": obj, "properties.email": str, "properties.firstname": str,
				"properties.createdate": str, "properties.lastmodifieddate": str, "properties.hs_object_id": str,
				"properties.hs_lead_score": num, "createdAt": str, "updatedAt": str, "archived": boolT,
			}, []string{"properties.email", "properties.firstname"}},
		{http.MethodPatch, "/mock/hubspot/contacts/contact_42", `{"properties":{"lifecyclestage":"lead"}}`, 200,
			map[string]string{
				"id": str, "properties": obj, "properties.lifecyclestage": str,
				"properties.lastmodifieddate": str, "properties.hs_object_id": str, "updatedAt": str,
			}, []string{"properties.lifecyclestage"}},
		{http.MethodPost, "/mock/lemlist/campaigns/cmp_1/leads",
			`{"email":"ada@example.com","firstName":"Ada","lastName":"Lovelace","companyName":"AE"}`, 201,
			map[string]string{
				"leadId": str, "campaignId": str, "email": str, "firstName": str, "lastName": str,
				"companyName": str, "status": str, "scheduledAt": str, "sequence_step": num,
				"unsubscribed": boolT, "bounced": boolT,
			}, []string{"email", "firstName", "lastName", "companyName"}},
		{http.MethodGet, "/mock/clearbit/companies/stripe.com", "", 200, map[string]string{
			"company": obj, "company.domain": str, "company.name": str, "company.legal_name": str,
			"company.category": obj, "company.category.sector": str, "company.category.industry": str,
			"company.category.sub_industry": str, "company.description": str, "company.metrics": obj,
			"company.metrics.employees": num, "company.metrics.employees_range": str,
			"company.metrics.annual_revenue": num, "company.metrics.funding_total": num,
			"company.location": str, "company.founded_year": num, "company.website_url": str,
			"company.linkedin_url": str, "company.technologies": strArr, "company.logo": str,
			"enriched_at": str,
		}, nil},
		{http.MethodPost, "/mock/outreach/prospects",
			`{"email":"ada@example.com","firstName":"Ada","lastName":"Lovelace","title":"CTO","company":"AE"}`, 201,
			map[string]string{
				"id": str, "type": str, "attributes": obj, "attributes.email": str,
				"attributes.firstName": str, "attributes.lastName": str, "attributes.title": str,
				"attributes.company": str, "attributes.stage": str, "attributes.starred": boolT,
				"attributes.tags": "array<>", "attributes.createdAt": str, "attributes.updatedAt": str,
				"relationships": obj, "relationships.account": obj, "relationships.account.data": obj,
				"relationships.account.data.type": str, "relationships.account.data.id": str,
			}, []string{"attributes.email", "attributes.firstName", "attributes.lastName", "attributes.title", "attributes.company"}},
		{http.MethodPost, "/mock/salesforce/leads",
			`{"FirstName":"Ada","LastName":"Lovelace","Email":"ada@example.com","Company":"AE","Status":"Working"}`, 201,
			map[string]string{
				"id": str, "success": boolT, "attributes": obj, "attributes.FirstName": str,
				"attributes.LastName": str, "attributes.Email": str, "attributes.Company": str,
				"attributes.Status": str, "attributes.LeadSource": str, "attributes.CreatedDate": str,
				"attributes.LastModifiedDate": str,
			}, []string{"attributes.FirstName", "attributes.LastName", "attributes.Email", "attributes.Company"}},
		{http.MethodGet, "/mock/weather/London", "", 200, map[string]string{
			"city": str, "temperature": num, "condition": str, "humidity": num, "timestamp": str,
		}, nil},
		{http.MethodPost, "/mock/lead-scoring/analyze",
			`{"lead_source":"LinkedIn","company":"AE","title":"CEO","email":"ada@example.com"}`, 201,
			map[string]string{
				"lead_id": str, "lead_source": str, "company": str, "title": str, "email": str,
				"score": num, "qualification": str, "factors": obj, "factors.lead_source_score": num,
				"factors.title_score": num, "factors.engagement_score": num, "timestamp": str,
			}, []string{"lead_source", "company", "title", "email"}},
		{http.MethodPost, "/mock/notifications/ae-alert",
			`{"lead_id":"lead_1","lead_source":"LinkedIn","score":91,"company":"AE","title":"CEO"}`, 201,
			map[string]string{
				"notification_id": str, "type": str, "status": str, "message": str, "ae_name": str,
				"ae_email": str, "sent_at": str, "channels": strArr,
			}, nil},
		{http.MethodPost, "/mock/email/follow-up",
			`{"lead_id":"lead_1","email":"ada@example.com","first_name":"Ada","company":"AE"}`, 201,
			map[string]string{
				"email_id": str, "type": str, "template": str, "recipient": str, "subject": str,
				"status": str, "delivery_time": str, "tracking": obj, "tracking.delivered": boolT,
				"tracking.opened": boolT, "tracking.clicked": boolT,
			}, []string{"recipient"}},
		{http.MethodPost, "/mock/campaigns/gifting-sequence", `{"lead_id":"lead_1","title":"CEO","company":"AE"}`, 201,
			map[string]string{
				"sequence_id": str, "lead_id": str, "gift": obj, "gift.type": str, "gift.value": str,
				"gift.description": str, "status": str, "estimated_delivery": str, "personalization": str,
				"tracking_number": str, "approval_required": boolT, "initiated_at": str,
			}, []string{"lead_id"}},
		{http.MethodPost, "/mock/campaigns/drip-campaign",
			`{"lead_id":"lead_1","email":"ada@example.com","company":"AE","title":"CEO"}`, 201,
			map[string]string{
				"campaign_id": str, "campaign_name": str, "lead_id": str, "recipient": str, "status": str,
				"sequence_position": num, "total_emails": num, "next_email_date": str,
				"completion_date": str, "personalization": obj, "personalization.company": str,
				"personalization.title": str, "personalization.industry": str, "started_at": str,
			}, []string{"lead_id", "recipient", "personalization.company", "personalization.title"}},
		{http.MethodGet, "/mock/building/temperature?zone=server_room&floor=3", "", 200, map[string]string{
			"sensor_id": str, "zone": str, "floor": str, "temperature": num, "unit": str,
			"humidity": num, "air_quality": str, "last_reading": str, "sensor_status": str,
			"calibration_date": str,
		}, nil},
		{http.MethodGet, "/mock/sensors/temperature/live?zone=lobby", "", 200, liveSensor(""), nil},
		{http.MethodPost, "/mock/triggers/temperature-alert", `{"zone":"lobby"}`, 201, trigger, nil},
		{http.MethodPost, "/mock/building/ac/control", `{"zone":"lobby","action":"turn_on","target_temperature":21}`, 201,
			map[string]string{
				"control_id": str, "zone": str, "action": str, "target_temperature": num, "status": str,
				"current_mode": str, "power_consumption": num, "estimated_time_to_target": "number|null",
				"error_message": "string|null", "timestamp": str,
			}, []string{"action", "target_temperature"}},
		{http.MethodPost, "/mock/building/notifications/manager",
			`{"zone":"lobby","temperature":33.5,"issue_type":"temperature_alert"}`, 201, map[string]string{
				"notification_id": str, "type": str, "priority": str, "message": str, "manager_name": str,
				"manager_email": str, "manager_phone": str, "sent_via": strArr,
				"acknowledgment_required": boolT, "acknowledgment_deadline": str,
				"escalation_contact": str, "sent_at": str,
			}, nil},
		{http.MethodGet, "/mock/building/notifications/bldg_notif_1/status", "", 200, map[string]string{
			"notification_id": str, "acknowledged": boolT, "acknowledgment_time": "string|null",
			"response_message": "string|null", "response_time_minutes": "number|null",
			"escalation_triggered": boolT, "status": str,
		}, nil},
		{http.MethodPost, "/mock/building/backup-cooling/activate", `{"zone":"lobby","emergency_mode":true}`, 201,
			map[string]string{
				"activation_id": str, "zone": str, "status": str, "system_type": str, "capacity": str,
				"estimated_cooldown_time": num, "power_consumption": num, "activation_reason": str,
				"auto_shutoff_time": str, "monitoring_frequency": str, "error_message": "string|null",
				"activated_at": str,
			}, []string{"zone"}},
	}
}

// TestRouteShapes sends every route its full body, then no body at all, and
// checks status, content type and the exact field set and types; fields that
// echo the body must disappear without it.
func TestRouteShapes(t *testing.T) {
	t.Parallel()
	cases := allRouteCases()
	if len(cases) != 23 {
		t.Fatalf("%d route cases, want 23 (test-weather + 22 mocks)", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			h := newTestHandler(1)
			full := send(t, h, tc.method, Prefix+tc.path, tc.body).mustStatus(t, tc.status)
			checkShape(t, shapeOf(full.obj), tc.shape)

			empty := send(t, h, tc.method, Prefix+tc.path, "").mustStatus(t, tc.status)
			want := maps.Clone(tc.shape)
			for _, p := range tc.echoed {
				delete(want, p)
			}
			checkShape(t, shapeOf(empty.obj), want)
		})
	}
}

// TestRouteTableMatchesCases keeps the served routes and the test table in step.
func TestRouteTableMatchesCases(t *testing.T) {
	t.Parallel()
	tested := map[string]bool{}
	for _, tc := range allRouteCases() {
		path, _, _ := strings.Cut(tc.path, "?")
		tested[tc.method+" "+path] = true
	}
	for _, rt := range routeTable() {
		concrete := rt.pattern
		for param, val := range map[string]string{
			"{contactId}": "contact_42", "{campaignId}": "cmp_1", "{domain}": "stripe.com",
			"{city}": "London", "{notificationId}": "bldg_notif_1",
		} {
			concrete = strings.ReplaceAll(concrete, param, val)
		}
		if !tested[rt.method+" "+concrete] {
			t.Errorf("route %s %s has no shape case", rt.method, rt.pattern)
		}
	}
}
