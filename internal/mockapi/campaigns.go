package mockapi

import (
	"fmt"
	"strings"
	"time"
)

const day = 24 * time.Hour

type giftingAnswer struct {
	SequenceID        string  `json:"sequence_id"`
	LeadID            jsValue `json:"lead_id,omitempty"`
	Gift              gift    `json:"gift"`
	Status            string  `json:"status"`
	EstimatedDelivery string  `json:"estimated_delivery"`
	Personalization   string  `json:"personalization"`
	TrackingNumber    string  `json:"tracking_number"`
	ApprovalRequired  bool    `json:"approval_required"`
	InitiatedAt       string  `json:"initiated_at"`
}

// giftingSequence is POST mock/campaigns/gifting-sequence; only the $200 gift
// needs approval.
func giftingSequence(c *call) any {
	g := pick(c.rnd, c.cat.gifts)
	return giftingAnswer{
		SequenceID:        fmt.Sprintf("gift_seq_%d", c.ms()),
		LeadID:            c.body.get("lead_id"),
		Gift:              g,
		Status:            "initiated",
		EstimatedDelivery: c.iso(3 * day),
		Personalization: fmt.Sprintf("Congratulations on your role as %s at %s!",
			c.body.get("title"), c.body.get("company")),
		TrackingNumber:   fmt.Sprintf("GIFT%d", c.rnd.between(0, 999999)),
		ApprovalRequired: strings.Contains(g.Value, "200"),
		InitiatedAt:      c.iso(0),
	}
}

type dripAnswer struct {
	CampaignID       string          `json:"campaign_id"`
	CampaignName     string          `json:"campaign_name"`
	LeadID           jsValue         `json:"lead_id,omitempty"`
	Recipient        jsValue         `json:"recipient,omitempty"`
	Status           string          `json:"status"`
	SequencePosition int             `json:"sequence_position"`
	TotalEmails      int             `json:"total_emails"`
	NextEmailDate    string          `json:"next_email_date"`
	CompletionDate   string          `json:"completion_date"`
	Personalization  dripPersonalize `json:"personalization"`
	StartedAt        string          `json:"started_at"`
}

type dripPersonalize struct {
	Company  jsValue `json:"company,omitempty"`
	Title    jsValue `json:"title,omitempty"`
	Industry string  `json:"industry"`
}

// dripCampaign is POST mock/campaigns/drip-campaign: a random plan, next
// email tomorrow, completion after the plan's duration.
func dripCampaign(c *call) any {
	plan := pick(c.rnd, c.cat.dripCampaigns)
	return dripAnswer{
		CampaignID:       fmt.Sprintf("drip_%d", c.ms()),
		CampaignName:     plan.name,
		LeadID:           c.body.get("lead_id"),
		Recipient:        c.body.get("email"),
		Status:           "active",
		SequencePosition: 1,
		TotalEmails:      plan.emails,
		NextEmailDate:    c.iso(day),
		CompletionDate:   c.iso(time.Duration(plan.durationDays) * day),
		Personalization: dripPersonalize{
			Company:  c.body.get("company"),
			Title:    c.body.get("title"),
			Industry: "Technology",
		},
		StartedAt: c.iso(0),
	}
}
