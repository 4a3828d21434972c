package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/net/http/httpguts"

	"github.com/sequenceflow/sequenceflow/internal/webhook"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// HookStore keeps webhook triggers. ListHooks leaves secrets out; Hook reads one with its
// secret, for the signature check.
type HookStore interface {
	CreateHook(ctx context.Context, h webhook.Hook) error
	ListHooks(ctx context.Context, workflowID string) ([]webhook.Hook, error)
	Hook(ctx context.Context, id string) (webhook.Hook, error)
	DeleteHook(ctx context.Context, id string) error
}

const hookNotFound = "Hook not found"

// hookIn is the body of POST /workflows/{id}/hooks, decoded strictly.
type hookIn struct {
	Name      *string         `json:"name"`
	Version   json.RawMessage `json:"version"`
	Signature *signatureIn    `json:"signature"`
	Dedup     *dedupIn        `json:"dedup"`
	Respond   *respondIn      `json:"respond"`
}

type signatureIn struct {
	Secret           *string  `json:"secret"`
	SecretRef        *string  `json:"secretRef"`
	Header           *string  `json:"header"`
	TimestampHeader  *string  `json:"timestampHeader"`
	ToleranceSeconds *float64 `json:"toleranceSeconds"`
}

type dedupIn struct {
	Header    *string `json:"header"`
	BodyField *string `json:"bodyField"`
}

type respondIn struct {
	Mode      *string  `json:"mode"`
	NodeID    *string  `json:"nodeId"`
	TimeoutMs *float64 `json:"timeoutMs"`
}

// hookView is a hook as the API shows it: never its secret, only that it is signed.
type hookView struct {
	ID         string         `json:"id"`
	URL        string         `json:"url"`
	WorkflowID string         `json:"workflowId"`
	Name       string         `json:"name"`
	Version    any            `json:"version"`
	Signed     bool           `json:"signed"`
	Signature  *signatureView `json:"signature"`
	Dedup      dedupView      `json:"dedup"`
	Respond    respondView    `json:"respond"`
	CreatedAt  isoTime        `json:"createdAt"`
}

type signatureView struct {
	SecretRef        string `json:"secretRef,omitempty"`
	Header           string `json:"header"`
	TimestampHeader  string `json:"timestampHeader"`
	ToleranceSeconds int64  `json:"toleranceSeconds"`
}

type dedupView struct {
	Header    string `json:"header"`
	BodyField string `json:"bodyField,omitempty"`
}

type respondView struct {
	Mode      string `json:"mode"`
	NodeID    string `json:"nodeId,omitempty"`
	TimeoutMs int64  `json:"timeoutMs,omitempty"`
}

func viewHook(h webhook.Hook) hookView {
	v := hookView{ID: h.ID, URL: h.URL(), WorkflowID: h.WorkflowID, Name: h.Name, Version: "current", Signed: h.Signature != nil,
		Dedup:   dedupView{Header: h.Dedup.Header, BodyField: h.Dedup.BodyField},
		Respond: respondView{Mode: h.Respond.Mode}, CreatedAt: isoTime(h.CreatedAt)}
	if h.Version > 0 {
		v.Version = h.Version
	}
	if s := h.Signature; s != nil {
		v.Signature = &signatureView{SecretRef: s.SecretRef, Header: s.Header, TimestampHeader: s.TimestampHeader, ToleranceSeconds: int64(s.Tolerance / time.Second)}
	}
	if h.Respond.Mode == webhook.RespondNode {
		v.Respond.NodeID, v.Respond.TimeoutMs = h.Respond.NodeID, h.Respond.Timeout.Milliseconds()
	}
	return v
}

// hookID reads the {hookID} of a route; false when it cannot be a hook's id.
func hookID(r *http.Request) (string, bool) {
	id := chi.URLParam(r, "hookID")
	return id, webhook.ValidID(id)
}

func (a *API) createHook(w http.ResponseWriter, r *http.Request) {
	h, err := a.newHook(w, r)
	if err == nil {
		err = a.Hooks.CreateHook(r.Context(), h)
	}
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	writeJSON(w, http.StatusCreated, viewHook(h))
}

// newHook reads and checks a hook's settings against its workflow.
func (a *API) newHook(w http.ResponseWriter, r *http.Request) (webhook.Hook, error) {
	id, ok := pathID(r, "id")
	if !ok {
		return webhook.Hook{}, workflow.ErrNotFound
	}
	body, err := a.readBody(w, r)
	if err != nil {
		return webhook.Hook{}, err
	}
	var in hookIn
	if err := decodeStrict(body, &in, "body"); err != nil {
		return webhook.Hook{}, err
	}
	h := webhook.Hook{ID: webhook.NewID(), WorkflowID: id, CreatedAt: a.Now().UTC().Truncate(time.Microsecond)}
	v := &workflow.ValidationError{}
	if in.Name != nil {
		h.Name = strings.TrimSpace(*in.Name)
		if len(h.Name) > webhook.MaxNameBytes {
			v.Add("name", "must be at most %d bytes", webhook.MaxNameBytes)
		}
	}
	h.Version = hookVersion(v, in.Version)
	h.Signature = a.hookSignature(v, in.Signature)
	h.Dedup = hookDedup(v, in.Dedup)
	h.Respond = hookRespond(v, in.Respond)
	if err := v.OrNil(); err != nil {
		return h, err
	}
	def, err := a.hookDefinition(r.Context(), id, h.Version)
	if err != nil {
		return h, err
	}
	if h.Respond.Mode == webhook.RespondNode && !slices.ContainsFunc(def.Nodes, func(n workflow.Node) bool { return n.ID == h.Respond.NodeID }) {
		return h, workflow.Invalid("respond.nodeId", "the workflow (version %v) has no node %q", webhookVersion(h.Version), h.Respond.NodeID)
	}
	return h, nil
}

func webhookVersion(v int) any {
	if v == 0 {
		return "current"
	}
	return v
}

// hookDefinition is the definition a hook runs: its pinned version's, or the current one.
func (a *API) hookDefinition(ctx context.Context, workflowID string, version int) (workflow.Definition, error) {
	if version == 0 {
		wf, err := a.Workflows.GetWorkflow(ctx, workflowID)
		return wf.Definition, err
	}
	v, err := a.Workflows.GetVersion(ctx, workflowID, version)
	if errors.Is(err, workflow.ErrNotFound) {
		if _, cerr := a.Workflows.CurrentVersion(ctx, workflowID); cerr == nil {
			err = workflow.Invalid("version", "the workflow has no version %d", version)
		}
	}
	return v.Definition, err
}

// hookVersion reads "current" (or nothing) as 0, else a positive version number.
func hookVersion(v *workflow.ValidationError, raw json.RawMessage) int {
	switch rawKind(raw) {
	case 0, 'n':
		return 0
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil && s == "current" {
			return 0
		}
	default:
		var n float64
		if json.Unmarshal(raw, &n) == nil && n >= 1 && n <= math.MaxInt32 && n == math.Trunc(n) {
			return int(n)
		}
	}
	v.Add("version", `must be "current" or a positive integer, a version number of the workflow`)
	return 0
}

// secretRefPattern is the name of a configured secret, as apiCall headers reference them.
var secretRefPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,100}$`)

func (a *API) hookSignature(v *workflow.ValidationError, in *signatureIn) *webhook.Signature {
	if in == nil {
		return nil
	}
	s := &webhook.Signature{Header: webhook.DefaultSignatureHeader, TimestampHeader: webhook.DefaultTimestampHeader, Tolerance: webhook.DefaultTolerance}
	switch {
	case (in.Secret == nil) == (in.SecretRef == nil):
		v.Add("signature", "send exactly one of secret (the shared secret itself) and secretRef (the name of a configured secret, SECRET_<NAME>)")
	case in.Secret != nil:
		s.Secret = *in.Secret
		if n := len(s.Secret); n < webhook.MinSecretBytes || n > webhook.MaxSecretBytes {
			v.Add("signature.secret", "must be %d to %d bytes long", webhook.MinSecretBytes, webhook.MaxSecretBytes)
		} else if strings.ContainsRune(s.Secret, 0) {
			v.Add("signature.secret", "must not contain NUL")
		}
	default:
		s.SecretRef = *in.SecretRef
		switch {
		case !secretRefPattern.MatchString(s.SecretRef):
			v.Add("signature.secretRef", "must be a secret's name: 1 to 100 letters, digits or underscores")
		case a.secret(s.SecretRef) == "":
			v.Add("signature.secretRef", "no secret %q is configured: set the environment variable SECRET_%s on the API", s.SecretRef, strings.ToUpper(s.SecretRef))
		}
	}
	if in.Header != nil {
		s.Header = *in.Header
		if !httpguts.ValidHeaderFieldName(s.Header) {
			v.Add("signature.header", "must be a valid HTTP header name")
		}
	}
	if in.TimestampHeader != nil {
		s.TimestampHeader = *in.TimestampHeader
		if !httpguts.ValidHeaderFieldName(s.TimestampHeader) {
			v.Add("signature.timestampHeader", "must be a valid HTTP header name")
		}
	}
	if strings.EqualFold(s.Header, s.TimestampHeader) {
		v.Add("signature.timestampHeader", "must differ from signature.header")
	}
	if t := in.ToleranceSeconds; t != nil {
		if *t < 1 || *t > webhook.MaxTolerance.Seconds() || *t != math.Trunc(*t) {
			v.Add("signature.toleranceSeconds", "must be an integer from 1 to %d", int(webhook.MaxTolerance.Seconds()))
		} else {
			s.Tolerance = time.Duration(*t) * time.Second
		}
	}
	return s
}

// secret is the value of a configured secret, "" when there is none.
func (a *API) secret(name string) string {
	if a.Secret == nil {
		return ""
	}
	value, ok := a.Secret(name)
	if !ok {
		return ""
	}
	return value
}

func hookDedup(v *workflow.ValidationError, in *dedupIn) webhook.Dedup {
	d := webhook.Dedup{Header: webhook.DefaultDedupHeader}
	if in == nil {
		return d
	}
	if in.Header != nil {
		d.Header = *in.Header
		if d.Header != "" && !httpguts.ValidHeaderFieldName(d.Header) {
			v.Add("dedup.header", `must be a valid HTTP header name, or "" for none`)
		}
	}
	if in.BodyField != nil {
		d.BodyField = *in.BodyField
		if err := webhook.ValidBodyField(d.BodyField); err != nil {
			v.Add("dedup.bodyField", "%v", err)
		}
	}
	return d
}

func hookRespond(v *workflow.ValidationError, in *respondIn) webhook.Respond {
	resp := webhook.Respond{Mode: webhook.RespondAccepted}
	if in == nil {
		return resp
	}
	if in.Mode != nil {
		resp.Mode = *in.Mode
	}
	switch resp.Mode {
	case webhook.RespondAccepted:
		if in.NodeID != nil || in.TimeoutMs != nil {
			v.Add("respond", `nodeId and timeoutMs belong to mode "node"`)
		}
	case webhook.RespondNode:
		resp.Timeout = webhook.DefaultRespondTimeout
		if in.NodeID == nil || *in.NodeID == "" {
			v.Add("respond.nodeId", `is required with mode "node": the node whose output is the answer`)
		} else {
			resp.NodeID = *in.NodeID
		}
		if t := in.TimeoutMs; t != nil {
			if *t < 1 || *t > float64(webhook.MaxRespondTimeout.Milliseconds()) || *t != math.Trunc(*t) {
				v.Add("respond.timeoutMs", "must be an integer from 1 to %d", webhook.MaxRespondTimeout.Milliseconds())
			} else {
				resp.Timeout = time.Duration(*t) * time.Millisecond
			}
		}
	default:
		v.Add("respond.mode", `must be "accepted" or "node"`)
	}
	return resp
}

func (a *API) listHooks(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.fail(w, r, workflow.ErrNotFound, workflowNotFound)
		return
	}
	hooks, err := a.Hooks.ListHooks(r.Context(), id)
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	out := make([]hookView, len(hooks))
	for i, h := range hooks {
		out[i] = viewHook(h)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) deleteHook(w http.ResponseWriter, r *http.Request) {
	id, ok := hookID(r)
	err := workflow.ErrNotFound
	if ok {
		err = a.Hooks.DeleteHook(r.Context(), id)
	}
	if err != nil {
		a.fail(w, r, err, hookNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
