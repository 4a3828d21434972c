// Package apitemplate is the catalogue of reusable API-call configurations the builder offers
// (API-CONTRACT.md section 5).
package apitemplate

import (
	"encoding/json"
	"time"
)

// Template is one API template. JSON names are the wire names.
type Template struct {
	ID                  string          `json:"id"`
	Name                string          `json:"name"`
	Description         *string         `json:"description"`
	Provider            string          `json:"provider"`
	Category            string          `json:"category"`
	Method              string          `json:"method"`
	URL                 string          `json:"url"`
	Headers             json.RawMessage `json:"headers"`
	BodyTemplate        *string         `json:"bodyTemplate"`
	Parameters          json.RawMessage `json:"parameters"`
	TimeoutMs           int             `json:"timeoutMs"`
	ExpectedStatusCodes json.RawMessage `json:"expectedStatusCodes"`
	SampleResponse      json.RawMessage `json:"sampleResponse"`
	Documentation       *string         `json:"documentation"`
	Tags                json.RawMessage `json:"tags"`
	IsActive            bool            `json:"isActive"`
	IsCustom            bool            `json:"isCustom"`
	CreatedAt           time.Time       `json:"-"`
	UpdatedAt           time.Time       `json:"-"`
}

// Filter selects active templates by provider (which wins) or category.
type Filter struct {
	Provider string
	Category string
}
