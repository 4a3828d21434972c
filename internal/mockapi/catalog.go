package mockapi

// catalog is every fixed table the mocks draw from, in one place. The values
// the contract leaves open ("random of 5" titles, industries, cities, the
// gift descriptions) are the seed's own.
type catalog struct {
	// test-weather: lower-cased city to fixed readings; unknown cities get London's.
	testWeather map[string]cityReading
	// weather/:city: lower-cased city to temperature; otherwise 20.
	cityTemperatures map[string]int

	// apollo/person-enrichment.
	personDomains    []string
	personTitles     []string
	personIndustries []string
	// apollo/company-search: always these three.
	searchCompanies []searchCompany

	// clearbit/companies/:domain.
	clearbitIndustries  []string
	clearbitLocations   []string
	clearbitDescription string

	// email/follow-up, campaigns/gifting-sequence, campaigns/drip-campaign.
	emailTemplates []string
	gifts          []gift
	dripCampaigns  []dripPlan
}

type cityReading struct {
	temperature int
	humidity    int
	condition   string
}

type searchCompany struct{ name, domain, industry string }

// gift is echoed whole into the gifting answer.
type gift struct {
	Type        string `json:"type"`
	Value       string `json:"value"`
	Description string `json:"description"`
}

type dripPlan struct {
	name         string
	durationDays int
	emails       int
}

func newCatalog() *catalog {
	return &catalog{
		testWeather: map[string]cityReading{
			"dubai":    {35, 60, "sunny"},
			"london":   {15, 80, "cloudy"},
			"new york": {22, 65, "partly cloudy"},
			"tokyo":    {18, 70, "rainy"},
			"sydney":   {25, 55, "clear"},
		},
		cityTemperatures: map[string]int{
			"san francisco": 18, "new york": 22, "london": 15, "tokyo": 24,
			"sydney": 26, "dubai": 35, "mumbai": 32, "singapore": 30,
		},
		personDomains: []string{"techcorp.com", "innovate.io", "nexustech.com", "digitalsolutions.com"},
		personTitles: []string{
			"VP of Sales", "Marketing Director", "Head of Business Development",
			"Senior Account Executive", "Director of Growth",
		},
		personIndustries: []string{"Technology", "Software", "SaaS", "Fintech", "E-commerce"},
		searchCompanies: []searchCompany{
			{"TechCorp Inc", "techcorp.com", "Software"},
			{"InnovateLabs", "innovatelabs.com", "AI/ML"},
			{"DataFlow Systems", "dataflow.io", "Data Analytics"},
		},
		clearbitIndustries: []string{"Technology", "Software", "E-commerce", "Fintech", "Healthcare"},
		clearbitLocations: []string{
			"San Francisco, CA", "New York, NY", "Austin, TX", "Seattle, WA", "Boston, MA",
		},
		clearbitDescription: "Leading technology company providing innovative solutions.",
		emailTemplates: []string{
			"personalized_intro", "value_proposition", "case_study_relevant", "demo_invitation",
		},
		gifts: []gift{
			{"premium_swag", "$50", "Premium branded merchandise package"},
			{"gift_card", "$100", "Amazon gift card"},
			{"experience", "$200", "Executive lunch invitation"},
			{"book", "$30", "Leadership book with personal note"},
		},
		dripCampaigns: []dripPlan{
			{"enterprise_nurture", 30, 8},
			{"smb_conversion", 14, 5},
			{"industry_specific", 21, 6},
			{"product_education", 28, 7},
		},
	}
}
