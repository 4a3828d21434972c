package mockapi

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var phonePattern = regexp.MustCompile(`^\+1-555-(\d{3})-(\d{4})$`)

func TestApolloPersonNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body          string
		first, last, org    any
		emailUser, linkedin string
	}{
		{"given", `{"first_name":"Ada","last_name":"LoveLace","organization_name":"AE Ltd"}`,
			"Ada", "LoveLace", "AE Ltd", "ada.lovelace", "ada-lovelace"},
		{"defaults", ``, "John", "Doe", "TechCorp Inc", "john.doe", "john-doe"},
		{"falsy values take defaults", `{"first_name":"","last_name":null,"organization_name":0}`,
			"John", "Doe", "TechCorp Inc", "john.doe", "john-doe"},
		{"truthy non-strings kept", `{"first_name":42,"last_name":true}`,
			float64(42), true, "TechCorp Inc", "42.true", "42-true"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCatalog()
			res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/apollo/person-enrichment", tc.body).mustStatus(t, 201)
			got := []any{res.at(t, "person.first_name"), res.at(t, "person.last_name"), res.at(t, "person.organization.name")}
			if diff := cmp.Diff([]any{tc.first, tc.last, tc.org}, got); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
			domain := res.str(t, "person.organization.domain")
			if !slices.Contains(c.personDomains, domain) {
				t.Errorf("domain %q not in %v", domain, c.personDomains)
			}
			if want := tc.emailUser + "@" + domain; res.str(t, "person.email") != want {
				t.Errorf("email %q, want %q (same domain as the organization)", res.str(t, "person.email"), want)
			}
			if want := "https://linkedin.com/in/" + tc.linkedin; res.str(t, "person.linkedin_url") != want {
				t.Errorf("linkedin_url %q, want %q", res.str(t, "person.linkedin_url"), want)
			}
			if res.str(t, "person.id") != "apollo_"+testMS {
				t.Errorf("id %q", res.str(t, "person.id"))
			}
			if diff := cmp.Diff([]any{"Apollo", "LinkedIn", "Company Website"}, res.at(t, "data_sources")); diff != "" {
				t.Errorf("data_sources (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApolloPersonRandomness(t *testing.T) {
	t.Parallel()
	h, c := newTestHandler(3), newCatalog()
	spans := map[string]*span{}
	for _, k := range []string{"area", "line", "employees", "revenue", "score"} {
		spans[k] = newSpan()
	}
	titles, industries, domains := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for range manyRequest {
		res := send(t, h, http.MethodPost, Prefix+"/mock/apollo/person-enrichment", "")
		m := phonePattern.FindStringSubmatch(res.str(t, "person.phone"))
		if m == nil {
			t.Fatalf("phone %q", res.str(t, "person.phone"))
		}
		spans["area"].add(stringToNumber(m[1]))
		spans["line"].add(stringToNumber(m[2]))
		spans["employees"].add(res.num(t, "person.organization.employee_count"))
		spans["revenue"].add(res.num(t, "person.organization.annual_revenue"))
		spans["score"].add(res.num(t, "enrichment_score"))
		titles[res.str(t, "person.title")] = true
		industries[res.str(t, "person.organization.industry")] = true
		domains[res.str(t, "person.organization.domain")] = true
	}
	checkInclusiveRange(t, "phone area", spans["area"], 100, 999)
	checkWithin(t, "phone line", spans["line"], 1000, 9999)
	checkWithin(t, "employee_count", spans["employees"], 50, 1049)
	checkWithin(t, "annual_revenue", spans["revenue"], 1000000, 50999999)
	checkInclusiveRange(t, "enrichment_score", spans["score"], 60, 99)
	checkDrawnFrom(t, "title", titles, c.personTitles)
	checkDrawnFrom(t, "industry", industries, c.personIndustries)
	checkDrawnFrom(t, "domain", domains, c.personDomains)
}

// checkDrawnFrom asserts that every value seen is in the table and every
// table entry was seen.
func checkDrawnFrom(t testing.TB, name string, seen map[string]bool, table []string) {
	t.Helper()
	got := make([]string, 0, len(seen))
	for v := range seen {
		got = append(got, v)
	}
	want := slices.Clone(table)
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s values (-table +drawn):\n%s", name, diff)
	}
}

var companyIDPattern = regexp.MustCompile(`^apollo_company_` + testMS + `_(0\.\d+|\d(\.\d+)?e-\d+)$`)

func TestApolloCompanySearch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, query     string
		industry        []string
		employees       float64 // 0: random 50..549
		headquarters    string
		randomEmployees bool
	}{
		{"defaults", "", []string{"Software", "AI/ML", "Data Analytics"}, 0, "San Francisco, CA", true},
		{"query values", "?industry=Fintech&size=250&location=Austin%2C%20TX",
			[]string{"Fintech", "Fintech", "Fintech"}, 250, "Austin, TX", false},
		{"empty values are falsy", "?industry=&size=&location=",
			[]string{"Software", "AI/ML", "Data Analytics"}, 0, "San Francisco, CA", true},
		{"parseInt stops at junk", "?size=12abc", nil, 12, "San Francisco, CA", false},
		{"parseInt reads hex", "?size=0x10", nil, 16, "San Francisco, CA", false},
		{"parseInt keeps the sign", "?size=-5", nil, -5, "San Francisco, CA", false},
		{"parseInt skips leading space", "?size=%2042", nil, 42, "San Francisco, CA", false},
		{"size 0 is falsy", "?size=0", nil, 0, "San Francisco, CA", true},
		{"no digits is NaN", "?size=abc", nil, 0, "San Francisco, CA", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, newTestHandler(1), http.MethodGet, Prefix+"/mock/apollo/company-search"+tc.query, "").mustStatus(t, 200)
			if res.num(t, "total_results") != 127 || res.num(t, "page") != 1 {
				t.Errorf("total_results/page: %s", res.raw)
			}
			names := []string{"TechCorp Inc", "InnovateLabs", "DataFlow Systems"}
			domains := []string{"techcorp.com", "innovatelabs.com", "dataflow.io"}
			if n := len(res.at(t, "companies").([]any)); n != 3 {
				t.Fatalf("%d companies, want 3", n)
			}
			for i := range 3 {
				p := "companies." + strconv.Itoa(i) + "."
				if res.str(t, p+"name") != names[i] || res.str(t, p+"domain") != domains[i] {
					t.Errorf("company %d: %s / %s", i, res.str(t, p+"name"), res.str(t, p+"domain"))
				}
				if tc.industry != nil && res.str(t, p+"industry") != tc.industry[i] {
					t.Errorf("company %d industry %q, want %q", i, res.str(t, p+"industry"), tc.industry[i])
				}
				if res.str(t, p+"headquarters") != tc.headquarters {
					t.Errorf("headquarters %q, want %q", res.str(t, p+"headquarters"), tc.headquarters)
				}
				emp := res.num(t, p+"employee_count")
				if tc.randomEmployees && (emp < 50 || emp > 549) || !tc.randomEmployees && emp != tc.employees {
					t.Errorf("employee_count %v, want %v (random: %v)", emp, tc.employees, tc.randomEmployees)
				}
				if id := res.str(t, p+"id"); !companyIDPattern.MatchString(id) {
					t.Errorf("id %q", id)
				}
				if diff := cmp.Diff([]any{"React", "Node.js", "AWS", "Salesforce"}, res.at(t, p+"technologies")); diff != "" {
					t.Errorf("technologies: %s", diff)
				}
			}
		})
	}

	h := newTestHandler(4)
	emp, rev, year := newSpan(), newSpan(), newSpan()
	for range manyRequest / 3 {
		res := send(t, h, http.MethodGet, Prefix+"/mock/apollo/company-search", "")
		for i := range 3 {
			p := "companies." + strconv.Itoa(i) + "."
			emp.add(res.num(t, p+"employee_count"))
			rev.add(res.num(t, p+"annual_revenue"))
			year.add(res.num(t, p+"founded_year"))
		}
	}
	checkWithin(t, "employee_count", emp, 50, 549)
	checkWithin(t, "annual_revenue", rev, 5000000, 104999999)
	checkInclusiveRange(t, "founded_year", year, 2000, 2019)
}

func TestZoomInfoContact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body               string
		email, first, last, link string
	}{
		{"defaults", "", "contact@example.com", "Jane", "Smith", "https://linkedin.com/in/jane-smith"},
		{"given, linkedin lower-cased", `{"email":"ADA@AE.COM","firstName":"Ada","lastName":"LOVELACE"}`,
			"ADA@AE.COM", "Ada", "LOVELACE", "https://linkedin.com/in/ada-lovelace"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/zoominfo/contact-enrichment", tc.body).mustStatus(t, 201)
			got := map[string]any{}
			for _, k := range []string{"email", "firstName", "lastName", "linkedin", "title", "company",
				"department", "seniority", "location", "company_size", "industry", "technologies"} {
				got[k] = res.at(t, "contact."+k)
			}
			want := map[string]any{
				"email": tc.email, "firstName": tc.first, "lastName": tc.last, "linkedin": tc.link,
				"title": "Senior Marketing Manager", "company": "Growth Dynamics", "department": "Marketing",
				"seniority": "Senior", "location": "New York, NY", "company_size": "201-500",
				"industry":     "Marketing Technology",
				"technologies": []any{"HubSpot", "Marketo", "Salesforce", "Google Analytics"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("contact (-want +got):\n%s", diff)
			}
			if !phonePattern.MatchString(res.str(t, "contact.phone")) {
				t.Errorf("phone %q", res.str(t, "contact.phone"))
			}
			if res.num(t, "confidence_score") != 0.95 || res.str(t, "last_updated") != testNowISO {
				t.Errorf("confidence/last_updated: %s", res.raw)
			}
		})
	}
}

func TestClearbitCompany(t *testing.T) {
	t.Parallel()
	tests := []struct {
		domain, name, legal, linkedinLabel string
	}{
		{"stripe.com", "Stripe Corp", "Stripe Corporation", "stripe"},
		{"acme.co.uk", "Acme Corp", "Acme Corporation", "acme"},
		{"localhost", "Localhost Corp", "Localhost Corporation", "localhost"},
		{"mixedCase.io", "MixedCase Corp", "MixedCase Corporation", "mixedCase"},
		{"123abc.io", "123abc Corp", "123abc Corporation", "123abc"},
		{"élan.fr", "Élan Corp", "Élan Corporation", "élan"},
	}
	c := newCatalog()
	for _, tc := range tests {
		t.Run(tc.domain, func(t *testing.T) {
			t.Parallel()
			res := send(t, newTestHandler(1), http.MethodGet, Prefix+"/mock/clearbit/companies/"+tc.domain, "").mustStatus(t, 200)
			got := map[string]any{}
			for _, k := range []string{"domain", "name", "legal_name", "category.sector", "category.sub_industry",
				"description", "metrics.employees_range", "website_url", "linkedin_url", "technologies", "logo"} {
				got[k] = res.at(t, "company."+k)
			}
			want := map[string]any{
				"domain": tc.domain, "name": tc.name, "legal_name": tc.legal,
				"category.sector": "Technology", "category.sub_industry": "Software",
				"description":             "Leading technology company providing innovative solutions.",
				"metrics.employees_range": "100-500",
				"website_url":             "https://" + tc.domain,
				"linkedin_url":            "https://linkedin.com/company/" + tc.linkedinLabel,
				"technologies":            []any{"React", "AWS", "Stripe", "Intercom"},
				"logo":                    "https://logo.clearbit.com/" + tc.domain,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("company (-want +got):\n%s", diff)
			}
			if res.str(t, "enriched_at") != testNowISO {
				t.Errorf("enriched_at %q", res.str(t, "enriched_at"))
			}
		})
	}

	h := newTestHandler(5)
	emp, rev, fund, year := newSpan(), newSpan(), newSpan(), newSpan()
	industries, locations := map[string]bool{}, map[string]bool{}
	for range manyRequest {
		res := send(t, h, http.MethodGet, Prefix+"/mock/clearbit/companies/x.io", "")
		emp.add(res.num(t, "company.metrics.employees"))
		rev.add(res.num(t, "company.metrics.annual_revenue"))
		fund.add(res.num(t, "company.metrics.funding_total"))
		year.add(res.num(t, "company.founded_year"))
		industries[res.str(t, "company.category.industry")] = true
		locations[res.str(t, "company.location")] = true
	}
	checkWithin(t, "employees", emp, 100, 1099)
	checkWithin(t, "annual_revenue", rev, 10000000, 59999999)
	checkWithin(t, "funding_total", fund, 5000000, 24999999)
	checkInclusiveRange(t, "founded_year", year, 2000, 2019)
	checkDrawnFrom(t, "industry", industries, []string{"Technology", "Software", "E-commerce", "Fintech", "Healthcare"})
	checkDrawnFrom(t, "location", locations, c.clearbitLocations)
}
