package mockapi

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// phone is the seed's "+1-555-<rand 100..999>-<rand 1000..9999>".
func phone(c *call) string {
	return fmt.Sprintf("+1-555-%d-%d", c.rnd.between(100, 999), c.rnd.between(1000, 9999))
}

type apolloPersonAnswer struct {
	Person          apolloPerson `json:"person"`
	EnrichmentScore int          `json:"enrichment_score"`
	DataSources     []string     `json:"data_sources"`
}

type apolloPerson struct {
	ID           string             `json:"id"`
	FirstName    jsValue            `json:"first_name"`
	LastName     jsValue            `json:"last_name"`
	Email        string             `json:"email"`
	Phone        string             `json:"phone"`
	Title        string             `json:"title"`
	LinkedinURL  string             `json:"linkedin_url"`
	Organization apolloOrganization `json:"organization"`
}

type apolloOrganization struct {
	Name          jsValue `json:"name"`
	Domain        string  `json:"domain"`
	Industry      string  `json:"industry"`
	EmployeeCount int     `json:"employee_count"`
	AnnualRevenue int     `json:"annual_revenue"`
}

// apolloPersonEnrichment is POST mock/apollo/person-enrichment.
func apolloPersonEnrichment(c *call) any {
	first := c.body.or("first_name", "John")
	last := c.body.or("last_name", "Doe")
	domain := pick(c.rnd, c.cat.personDomains)
	title := pick(c.rnd, c.cat.personTitles)
	industry := pick(c.rnd, c.cat.personIndustries)
	return apolloPersonAnswer{
		Person: apolloPerson{
			ID:          fmt.Sprintf("apollo_%d", c.ms()),
			FirstName:   first,
			LastName:    last,
			Email:       first.lower() + "." + last.lower() + "@" + domain,
			Phone:       phone(c),
			Title:       title,
			LinkedinURL: "https://linkedin.com/in/" + first.lower() + "-" + last.lower(),
			Organization: apolloOrganization{
				Name:          c.body.or("organization_name", "TechCorp Inc"),
				Domain:        domain,
				Industry:      industry,
				EmployeeCount: c.rnd.between(50, 1049),
				AnnualRevenue: c.rnd.between(1000000, 50999999),
			},
		},
		EnrichmentScore: c.rnd.between(60, 99),
		DataSources:     []string{"Apollo", "LinkedIn", "Company Website"},
	}
}

type apolloSearchAnswer struct {
	Companies    []apolloCompany `json:"companies"`
	TotalResults int             `json:"total_results"`
	Page         int             `json:"page"`
}

type apolloCompany struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Domain        string   `json:"domain"`
	Industry      string   `json:"industry"`
	EmployeeCount jsNumber `json:"employee_count"`
	Headquarters  string   `json:"headquarters"`
	AnnualRevenue int      `json:"annual_revenue"`
	FoundedYear   int      `json:"founded_year"`
	Technologies  []string `json:"technologies"`
}

// apolloCompanySearch is GET mock/apollo/company-search?industry&size&location.
func apolloCompanySearch(c *call) any {
	industry, _ := c.query("industry")
	size, _ := c.query("size")
	location, _ := c.query("location")
	if location == "" {
		location = "San Francisco, CA"
	}
	companies := make([]apolloCompany, 0, len(c.cat.searchCompanies))
	for _, sc := range c.cat.searchCompanies {
		id := fmt.Sprintf("apollo_company_%d_%s", c.ms(), formatJSNumber(c.rnd.float()))
		employees := parseInt(size) // parseInt(size) || rand 50..549
		if employees != employees || employees == 0 {
			employees = float64(c.rnd.between(50, 549))
		}
		companies = append(companies, apolloCompany{
			ID:            id,
			Name:          sc.name,
			Domain:        sc.domain,
			Industry:      cmpOr(industry, sc.industry),
			EmployeeCount: jsNumber(employees),
			Headquarters:  location,
			AnnualRevenue: c.rnd.between(5000000, 104999999),
			FoundedYear:   c.rnd.between(2000, 2019),
			Technologies:  []string{"React", "Node.js", "AWS", "Salesforce"},
		})
	}
	return apolloSearchAnswer{Companies: companies, TotalResults: 127, Page: 1}
}

// cmpOr is `s || def` for strings.
func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

type zoomInfoAnswer struct {
	Contact         zoomInfoContact `json:"contact"`
	ConfidenceScore float64         `json:"confidence_score"`
	LastUpdated     string          `json:"last_updated"`
}

type zoomInfoContact struct {
	Email        jsValue  `json:"email"`
	FirstName    jsValue  `json:"firstName"`
	LastName     jsValue  `json:"lastName"`
	Phone        string   `json:"phone"`
	Title        string   `json:"title"`
	Company      string   `json:"company"`
	Department   string   `json:"department"`
	Seniority    string   `json:"seniority"`
	Linkedin     string   `json:"linkedin"`
	Location     string   `json:"location"`
	CompanySize  string   `json:"company_size"`
	Industry     string   `json:"industry"`
	Technologies []string `json:"technologies"`
}

// zoomInfoContactEnrichment is POST mock/zoominfo/contact-enrichment.
func zoomInfoContactEnrichment(c *call) any {
	first := c.body.or("firstName", "Jane")
	last := c.body.or("lastName", "Smith")
	return zoomInfoAnswer{
		Contact: zoomInfoContact{
			Email:        c.body.or("email", "contact@example.com"),
			FirstName:    first,
			LastName:     last,
			Phone:        phone(c),
			Title:        "Senior Marketing Manager",
			Company:      "Growth Dynamics",
			Department:   "Marketing",
			Seniority:    "Senior",
			Linkedin:     "https://linkedin.com/in/" + first.lower() + "-" + last.lower(),
			Location:     "New York, NY",
			CompanySize:  "201-500",
			Industry:     "Marketing Technology",
			Technologies: []string{"HubSpot", "Marketo", "Salesforce", "Google Analytics"},
		},
		ConfidenceScore: 0.95,
		LastUpdated:     c.iso(0),
	}
}

type clearbitAnswer struct {
	Company    clearbitCompanyInfo `json:"company"`
	EnrichedAt string              `json:"enriched_at"`
}

type clearbitCompanyInfo struct {
	Domain       string           `json:"domain"`
	Name         string           `json:"name"`
	LegalName    string           `json:"legal_name"`
	Category     clearbitCategory `json:"category"`
	Description  string           `json:"description"`
	Metrics      clearbitMetrics  `json:"metrics"`
	Location     string           `json:"location"`
	FoundedYear  int              `json:"founded_year"`
	WebsiteURL   string           `json:"website_url"`
	LinkedinURL  string           `json:"linkedin_url"`
	Technologies []string         `json:"technologies"`
	Logo         string           `json:"logo"`
}

type clearbitCategory struct {
	Sector      string `json:"sector"`
	Industry    string `json:"industry"`
	SubIndustry string `json:"sub_industry"`
}

type clearbitMetrics struct {
	Employees      int    `json:"employees"`
	EmployeesRange string `json:"employees_range"`
	AnnualRevenue  int    `json:"annual_revenue"`
	FundingTotal   int    `json:"funding_total"`
}

// clearbitCompany is GET mock/clearbit/companies/:domain. The company is
// named after the domain's first DNS label with its first letter upper-cased.
func clearbitCompany(c *call) any {
	domain := c.param("domain")
	label, _, _ := strings.Cut(domain, ".")
	title := capitalize(label)
	return clearbitAnswer{
		Company: clearbitCompanyInfo{
			Domain:    domain,
			Name:      title + " Corp",
			LegalName: title + " Corporation",
			Category: clearbitCategory{
				Sector:      "Technology",
				Industry:    pick(c.rnd, c.cat.clearbitIndustries),
				SubIndustry: "Software",
			},
			Description: c.cat.clearbitDescription,
			Metrics: clearbitMetrics{
				Employees:      c.rnd.between(100, 1099),
				EmployeesRange: "100-500",
				AnnualRevenue:  c.rnd.between(10000000, 59999999),
				FundingTotal:   c.rnd.between(5000000, 24999999),
			},
			Location:     pick(c.rnd, c.cat.clearbitLocations),
			FoundedYear:  c.rnd.between(2000, 2019),
			WebsiteURL:   "https://" + domain,
			LinkedinURL:  "https://linkedin.com/company/" + label,
			Technologies: []string{"React", "AWS", "Stripe", "Intercom"},
			Logo:         "https://logo.clearbit.com/" + domain,
		},
		EnrichedAt: c.iso(0),
	}
}

// capitalize upper-cases the first character only (charAt(0).toUpperCase()).
func capitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return strings.ToUpper(string(r)) + s[size:]
}
