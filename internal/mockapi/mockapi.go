// Package mockapi serves the demo endpoints of the original service: GET
// /workflows/api/test-weather and the 22 fake third-party APIs under
// /workflows/api/mock/ (Apollo, ZoomInfo, HubSpot, Lemlist, Clearbit, Outreach,
// Salesforce, weather, lead scoring, campaigns and a smart building). API-call
// nodes in the seeded workflows and templates call them, so their wire shape
// follows API-CONTRACT.md section 7 field for field.
//
// The handlers keep the seed's JavaScript semantics where they show on the
// wire: `a || b` defaults, destructuring defaults, template literals printing
// "undefined" for missing values, and echoed body fields that are left out of
// the JSON when the client did not send them.
package mockapi

import (
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// Prefix is the path under which New expects to be mounted.
const Prefix = "/workflows/api"

// Config holds the dependencies of the mock handlers. The zero value is usable.
type Config struct {
	// Now is the clock behind every id (`<ms>`) and timestamp. Default time.Now.
	Now func() time.Time
	// Rand drives every random value. Default: a time-seeded PCG source. The
	// handler guards it with its own mutex, so concurrent requests may share
	// it; do not use it elsewhere while the handler serves.
	Rand *rand.Rand
}

// WithDefaults returns cfg with unset fields filled in.
func (cfg Config) WithDefaults() Config {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		seed := uint64(time.Now().UnixNano())
		cfg.Rand = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
	return cfg
}

// New returns the handler for GET /workflows/api/test-weather and the mock
// routes under /workflows/api/mock/.
//
// Mount it on a chi router with r.Mount("/workflows/api", mockapi.New(cfg)):
// chi's Mount strips the prefix from the routing path (r.URL.Path stays
// intact), so the routes inside are declared relative to /workflows/api.
// Served on its own (no chi routing context, e.g. httptest.NewServer or
// http.ServeMux), it answers the same routes at their full paths.
//
// Unknown paths and wrong methods answer 404
// {"statusCode":404,"message":"Cannot GET /workflows/api/mock/x","error":"Not Found"}.
func New(cfg Config) http.Handler {
	cfg = cfg.WithDefaults()
	deps := &deps{now: cfg.Now, rnd: &lockedRand{r: cfg.Rand}, cat: newCatalog()}

	relative := newRouter()
	for _, rt := range routeTable() {
		relative.Method(rt.method, rt.pattern, deps.handle(rt.fn))
		if rt.method == http.MethodGet {
			// Express answers HEAD with the GET handler; net/http drops the body.
			relative.Method(http.MethodHead, rt.pattern, deps.handle(rt.fn))
		}
	}
	standalone := newRouter()
	standalone.Mount(Prefix, relative)
	return &handler{relative: relative, standalone: standalone}
}

func newRouter() *chi.Mux {
	r := chi.NewRouter()
	r.NotFound(notFound)
	r.MethodNotAllowed(notFound) // Nest answers a wrong method with a 404 too.
	return r
}

// handler picks the router that matches how it is being served: under a chi
// Mount the routing path is already relative to Prefix; otherwise the request
// carries the full path.
type handler struct {
	relative   *chi.Mux
	standalone *chi.Mux
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RoutePath != "" {
		h.relative.ServeHTTP(w, r)
		return
	}
	h.standalone.ServeHTTP(w, r)
}

// The chi.Routes methods let a parent router walk and match the mounted
// routes (chi.Walk, route patterns in middleware).

// Routes implements chi.Routes.
func (h *handler) Routes() []chi.Route { return h.relative.Routes() }

// Middlewares implements chi.Routes.
func (h *handler) Middlewares() chi.Middlewares { return h.relative.Middlewares() }

// Match implements chi.Routes.
func (h *handler) Match(rctx *chi.Context, method, path string) bool {
	return h.relative.Match(rctx, method, path)
}

// Find implements chi.Routes.
func (h *handler) Find(rctx *chi.Context, method, path string) string {
	return h.relative.Find(rctx, method, path)
}
