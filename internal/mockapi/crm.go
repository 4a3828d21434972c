package mockapi

import (
	"fmt"
	"time"
)

type hubspotCreateAnswer struct {
	ID         string    `json:"id"`
	Properties *jsObject `json:"properties"`
	CreatedAt  string    `json:"createdAt"`
	UpdatedAt  string    `json:"updatedAt"`
	Archived   bool      `json:"archived"`
}

// hubspotCreateContact is POST mock/hubspot/contacts: the client's
// properties spread first, then the server-set ones (which win).
func hubspotCreateContact(c *call) any {
	props := spreadObject(c.body.get("properties"))
	props.setString("createdate", c.iso(0))
	props.setString("lastmodifieddate", c.iso(0))
	props.setString("hs_object_id", fmt.Sprintf("contact_%d", c.ms()))
	props.setInt("hs_lead_score", c.rnd.between(0, 99))
	return hubspotCreateAnswer{
		ID:         fmt.Sprintf("hubspot_%d", c.ms()),
		Properties: props,
		CreatedAt:  c.iso(0),
		UpdatedAt:  c.iso(0),
		Archived:   false,
	}
}

type hubspotUpdateAnswer struct {
	ID         string    `json:"id"`
	Properties *jsObject `json:"properties"`
	UpdatedAt  string    `json:"updatedAt"`
}

// hubspotUpdateContact is PATCH mock/hubspot/contacts/:contactId.
func hubspotUpdateContact(c *call) any {
	id := c.param("contactId")
	props := spreadObject(c.body.get("properties"))
	props.setString("lastmodifieddate", c.iso(0))
	props.setString("hs_object_id", id)
	return hubspotUpdateAnswer{ID: id, Properties: props, UpdatedAt: c.iso(0)}
}

type lemlistAnswer struct {
	LeadID       string  `json:"leadId"`
	CampaignID   string  `json:"campaignId"`
	Email        jsValue `json:"email,omitempty"`
	FirstName    jsValue `json:"firstName,omitempty"`
	LastName     jsValue `json:"lastName,omitempty"`
	CompanyName  jsValue `json:"companyName,omitempty"`
	Status       string  `json:"status"`
	ScheduledAt  string  `json:"scheduledAt"`
	SequenceStep int     `json:"sequence_step"`
	Unsubscribed bool    `json:"unsubscribed"`
	Bounced      bool    `json:"bounced"`
}

// lemlistAddLead is POST mock/lemlist/campaigns/:campaignId/leads; the lead
// is scheduled for now + 24 h.
func lemlistAddLead(c *call) any {
	return lemlistAnswer{
		LeadID:       fmt.Sprintf("lemlist_lead_%d", c.ms()),
		CampaignID:   c.param("campaignId"),
		Email:        c.body.get("email"),
		FirstName:    c.body.get("firstName"),
		LastName:     c.body.get("lastName"),
		CompanyName:  c.body.get("companyName"),
		Status:       "added",
		ScheduledAt:  c.iso(24 * time.Hour),
		SequenceStep: 1,
		Unsubscribed: false,
		Bounced:      false,
	}
}

type outreachAnswer struct {
	ID            string                `json:"id"`
	Type          string                `json:"type"`
	Attributes    outreachAttributes    `json:"attributes"`
	Relationships outreachRelationships `json:"relationships"`
}

type outreachAttributes struct {
	Email     jsValue  `json:"email,omitempty"`
	FirstName jsValue  `json:"firstName,omitempty"`
	LastName  jsValue  `json:"lastName,omitempty"`
	Title     jsValue  `json:"title,omitempty"`
	Company   jsValue  `json:"company,omitempty"`
	Stage     string   `json:"stage"`
	Starred   bool     `json:"starred"`
	Tags      []string `json:"tags"`
	CreatedAt string   `json:"createdAt"`
	UpdatedAt string   `json:"updatedAt"`
}

type outreachRelationships struct {
	Account struct {
		Data outreachRef `json:"data"`
	} `json:"account"`
}

type outreachRef struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// outreachCreateProspect is POST mock/outreach/prospects.
func outreachCreateProspect(c *call) any {
	a := outreachAnswer{
		ID:   fmt.Sprintf("outreach_prospect_%d", c.ms()),
		Type: "prospect",
		Attributes: outreachAttributes{
			Email:     c.body.get("email"),
			FirstName: c.body.get("firstName"),
			LastName:  c.body.get("lastName"),
			Title:     c.body.get("title"),
			Company:   c.body.get("company"),
			Stage:     "prospect",
			Starred:   false,
			Tags:      []string{},
			CreatedAt: c.iso(0),
			UpdatedAt: c.iso(0),
		},
	}
	a.Relationships.Account.Data = outreachRef{Type: "account", ID: fmt.Sprintf("account_%d", c.ms())}
	return a
}

type salesforceAnswer struct {
	ID         string               `json:"id"`
	Success    bool                 `json:"success"`
	Attributes salesforceAttributes `json:"attributes"`
}

type salesforceAttributes struct {
	FirstName        jsValue `json:"FirstName,omitempty"`
	LastName         jsValue `json:"LastName,omitempty"`
	Email            jsValue `json:"Email,omitempty"`
	Company          jsValue `json:"Company,omitempty"`
	Status           jsValue `json:"Status"`
	LeadSource       string  `json:"LeadSource"`
	CreatedDate      string  `json:"CreatedDate"`
	LastModifiedDate string  `json:"LastModifiedDate"`
}

// salesforceCreateLead is POST mock/salesforce/leads.
func salesforceCreateLead(c *call) any {
	return salesforceAnswer{
		ID:      fmt.Sprintf("sf_lead_%d", c.ms()),
		Success: true,
		Attributes: salesforceAttributes{
			FirstName:        c.body.get("FirstName"),
			LastName:         c.body.get("LastName"),
			Email:            c.body.get("Email"),
			Company:          c.body.get("Company"),
			Status:           c.body.orDefault("Status", jsString("Open - Not Contacted")),
			LeadSource:       "Web",
			CreatedDate:      c.iso(0),
			LastModifiedDate: c.iso(0),
		},
	}
}
