package outbound

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrRedirectCarriesSecret refuses a redirect whose location holds a secret value of the
// request: following it would send the secret on in the URL, wherever it points.
var ErrRedirectCarriesSecret = errors.New("redirect refused: its location carries a secret value of the request")

// checkRedirect bounds redirects, refuses a location that carries a secret value of the request
// (a target that reflects a credential into Location), and sends none of the caller's headers
// once the chain has left the first request's origin (scheme, host and port). net/http on its
// own would forward every header but Authorization, Cookie and their proxy variants to any host,
// and those too to subdomains and other ports.
func checkRedirect(maxRedirects int) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return fmt.Errorf("%w: stopped after %d redirects", errTooManyRedirects, maxRedirects)
		}
		if secrets := secretsFrom(req.Context()); secrets.Contains(req.URL.String()) {
			return ErrRedirectCarriesSecret
		} else if plain, err := url.QueryUnescape(req.URL.String()); err == nil && secrets.Contains(plain) {
			return ErrRedirectCarriesSecret
		}
		for _, hop := range append(via[1:], req) {
			if !sameOrigin(via[0].URL, hop.URL) {
				req.Header = http.Header{}
				break
			}
		}
		return nil
	}
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// port is a URL's port, the scheme's default when it names none.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}
