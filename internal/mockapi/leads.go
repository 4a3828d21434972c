package mockapi

import (
	"fmt"
	"strings"
)

type leadScoreAnswer struct {
	LeadID        string      `json:"lead_id"`
	LeadSource    jsValue     `json:"lead_source,omitempty"`
	Company       jsValue     `json:"company,omitempty"`
	Title         jsValue     `json:"title,omitempty"`
	Email         jsValue     `json:"email,omitempty"`
	Score         int         `json:"score"`
	Qualification string      `json:"qualification"`
	Factors       leadFactors `json:"factors"`
	Timestamp     string      `json:"timestamp"`
}

type leadFactors struct {
	LeadSourceScore int `json:"lead_source_score"`
	TitleScore      int `json:"title_score"`
	EngagementScore int `json:"engagement_score"`
}

// analyzeLeadScore is POST mock/lead-scoring/analyze: a random base score
// 50..89, raised for LinkedIn leads (exact match) and for titles containing
// "ceo" in any case, capped at 100.
func analyzeLeadScore(c *call) any {
	source, title := c.body.get("lead_source"), c.body.get("title")
	fromLinkedIn := source.isString("LinkedIn")
	isCEO := title.truthy() && strings.Contains(title.lower(), "ceo")

	score := c.rnd.between(50, 89)
	if fromLinkedIn {
		score += c.rnd.between(5, 24)
	}
	if isCEO {
		score += c.rnd.between(10, 24)
	}
	score = min(score, 100)

	factors := leadFactors{LeadSourceScore: 15, TitleScore: 10}
	if fromLinkedIn {
		factors.LeadSourceScore = 25
	}
	if isCEO {
		factors.TitleScore = 20
	}
	factors.EngagementScore = c.rnd.between(20, 49)

	return leadScoreAnswer{
		LeadID:        fmt.Sprintf("lead_%d", c.ms()),
		LeadSource:    source,
		Company:       c.body.get("company"),
		Title:         title,
		Email:         c.body.get("email"),
		Score:         score,
		Qualification: qualification(score),
		Factors:       factors,
		Timestamp:     c.iso(0),
	}
}

func qualification(score int) string {
	switch {
	case score > 75:
		return "High"
	case score > 50:
		return "Medium"
	}
	return "Low"
}

type aeAlertAnswer struct {
	NotificationID string   `json:"notification_id"`
	Type           string   `json:"type"`
	Status         string   `json:"status"`
	Message        string   `json:"message"`
	AEName         string   `json:"ae_name"`
	AEEmail        string   `json:"ae_email"`
	SentAt         string   `json:"sent_at"`
	Channels       []string `json:"channels"`
}

// aeAlert is POST mock/notifications/ae-alert. Missing values print as
// "undefined" in the message, as the seed's template literal does.
func aeAlert(c *call) any {
	b := c.body
	return aeAlertAnswer{
		NotificationID: fmt.Sprintf("notif_%d", c.ms()),
		Type:           "ae_alert",
		Status:         "sent",
		Message: fmt.Sprintf("🚨 High-value lead detected! %s (%s) from %s - Score: %s",
			b.get("company"), b.get("title"), b.get("lead_source"), b.get("score")),
		AEName:   "Sarah Johnson",
		AEEmail:  "sarah.johnson@company.com",
		SentAt:   c.iso(0),
		Channels: []string{"email", "slack", "mobile"},
	}
}

type followUpAnswer struct {
	EmailID      string         `json:"email_id"`
	Type         string         `json:"type"`
	Template     string         `json:"template"`
	Recipient    jsValue        `json:"recipient,omitempty"`
	Subject      string         `json:"subject"`
	Status       string         `json:"status"`
	DeliveryTime string         `json:"delivery_time"`
	Tracking     followUpTracks `json:"tracking"`
}

type followUpTracks struct {
	Delivered bool `json:"delivered"`
	Opened    bool `json:"opened"`
	Clicked   bool `json:"clicked"`
}

// followUpEmail is POST mock/email/follow-up: opened with p 0.7, clicked
// with p 0.3 (independently, as in the seed).
func followUpEmail(c *call) any {
	template := pick(c.rnd, c.cat.emailTemplates)
	opened := c.rnd.float() > 0.3
	clicked := c.rnd.float() > 0.7
	return followUpAnswer{
		EmailID:      fmt.Sprintf("email_%d", c.ms()),
		Type:         "follow_up",
		Template:     template,
		Recipient:    c.body.get("email"),
		Subject:      fmt.Sprintf("Following up on your interest - %s", c.body.get("company")),
		Status:       "sent",
		DeliveryTime: c.iso(0),
		Tracking:     followUpTracks{Delivered: true, Opened: opened, Clicked: clicked},
	}
}
