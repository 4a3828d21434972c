package mockapi

import (
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"
)

// route is one mock endpoint; patterns are relative to Prefix.
type route struct {
	method  string
	pattern string
	fn      mockFunc
}

// mockFunc builds the JSON answer of one route. POST answers 201, every other
// method 200 (NestJS defaults); no route sets its own status.
type mockFunc func(c *call) any

// routeTable lists every route the package serves, in contract order.
func routeTable() []route {
	return []route{
		{http.MethodGet, "/test-weather", testWeather},

		{http.MethodPost, "/mock/apollo/person-enrichment", apolloPersonEnrichment},
		{http.MethodGet, "/mock/apollo/company-search", apolloCompanySearch},
		{http.MethodPost, "/mock/zoominfo/contact-enrichment", zoomInfoContactEnrichment},
		{http.MethodPost, "/mock/hubspot/contacts", hubspotCreateContact},
		{http.MethodPatch, "/mock/hubspot/contacts/{contactId}", hubspotUpdateContact},
		{http.MethodPost, "/mock/lemlist/campaigns/{campaignId}/leads", lemlistAddLead},
		{http.MethodGet, "/mock/clearbit/companies/{domain}", clearbitCompany},
		{http.MethodPost, "/mock/outreach/prospects", outreachCreateProspect},
		{http.MethodPost, "/mock/salesforce/leads", salesforceCreateLead},
		{http.MethodGet, "/mock/weather/{city}", cityWeather},
		{http.MethodPost, "/mock/lead-scoring/analyze", analyzeLeadScore},
		{http.MethodPost, "/mock/notifications/ae-alert", aeAlert},
		{http.MethodPost, "/mock/email/follow-up", followUpEmail},
		{http.MethodPost, "/mock/campaigns/gifting-sequence", giftingSequence},
		{http.MethodPost, "/mock/campaigns/drip-campaign", dripCampaign},
		{http.MethodGet, "/mock/building/temperature", buildingTemperature},
		{http.MethodGet, "/mock/sensors/temperature/live", liveTemperature},
		{http.MethodPost, "/mock/triggers/temperature-alert", temperatureAlertTrigger},
		{http.MethodPost, "/mock/building/ac/control", acControl},
		{http.MethodPost, "/mock/building/notifications/manager", notifyManager},
		{http.MethodGet, "/mock/building/notifications/{notificationId}/status", managerAckStatus},
		{http.MethodPost, "/mock/building/backup-cooling/activate", activateBackupCooling},
	}
}

// deps are the handler's injected clock and random source, and its tables.
type deps struct {
	now func() time.Time
	rnd *lockedRand
	cat *catalog
}

// handle adapts a mockFunc: it reads the body, captures one instant for the
// whole answer and writes the JSON with the method's success status.
func (d *deps) handle(fn mockFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := readBody(w, r)
		if err != nil {
			writeError(w, err)
			return
		}
		c := &call{r: r, body: b, now: d.now(), rnd: d.rnd, cat: d.cat}
		status := http.StatusOK
		if r.Method == http.MethodPost {
			status = http.StatusCreated
		}
		writeJSON(w, status, fn(c))
	}
}

// call is what a mock sees of one request.
type call struct {
	r    *http.Request
	body body
	now  time.Time
	rnd  *lockedRand
	cat  *catalog
}

const isoLayout = "2006-01-02T15:04:05.000Z"

// ms is Date.now(): the Unix milliseconds of the request's instant.
func (c *call) ms() int64 { return c.now.UnixMilli() }

// iso is new Date(Date.now() + offset).toISOString().
func (c *call) iso(offset time.Duration) string {
	return c.now.Add(offset).UTC().Format(isoLayout)
}

// param is an Express route parameter: percent-decoded.
func (c *call) param(name string) string {
	v := chi.URLParam(c.r, name)
	if c.r.URL.RawPath == "" { // chi routed on the already decoded path
		return v
	}
	if dec, err := url.PathUnescape(v); err == nil {
		return dec
	}
	return v
}

// query returns the first value of a query parameter and whether it was given
// at all (`?zone=` is given and empty).
func (c *call) query(name string) (string, bool) {
	vs, ok := c.r.URL.Query()[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// queryValue is a query parameter as a JS value: undefined when absent.
func (c *call) queryValue(name string) jsValue {
	v, ok := c.query(name)
	if !ok {
		return nil
	}
	return jsString(v)
}
