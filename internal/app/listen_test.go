package app_test

import (
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
)

// The dev role, which reaches private addresses and usually has no keys, listens on loopback
// unless LISTEN_ADDR says otherwise; the api role listens on every interface.
func TestListenAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		role       app.Role
		listenAddr string
		want       string
	}{
		{app.RoleDev, "", "127.0.0.1:3000"},
		{app.RoleAPI, "", ":3000"},
		{app.RoleDev, "0.0.0.0", "0.0.0.0:3000"},
		{app.RoleDev, "::", "[::]:3000"},
		{app.RoleAPI, "::1", "[::1]:3000"},
		{app.RoleAPI, "[::1]", "[::1]:3000"},
		{app.RoleAPI, "localhost", "localhost:3000"},
	} {
		cfg, err := app.ConfigFromEnv(env(map[string]string{"LISTEN_ADDR": tc.listenAddr}), tc.role)
		if err != nil {
			t.Fatalf("LISTEN_ADDR=%q: %v", tc.listenAddr, err)
		}
		if got := cfg.ListenAddress(tc.role); got != tc.want {
			t.Errorf("%s with LISTEN_ADDR=%q listens on %q, want %q", tc.role, tc.listenAddr, got, tc.want)
		}
	}
	for _, bad := range []string{"127.0.0.1:3000", ":3000", "[::1]:3000"} {
		if _, err := app.ConfigFromEnv(env(map[string]string{"LISTEN_ADDR": bad}), app.RoleAPI); err == nil || !strings.Contains(err.Error(), "LISTEN_ADDR") {
			t.Errorf("LISTEN_ADDR=%q: error %v, want one naming LISTEN_ADDR", bad, err)
		}
	}
}

// A dev process started without LISTEN_ADDR binds 127.0.0.1, as its log says.
func TestDevListensOnLoopback(t *testing.T) {
	t.Parallel()
	var logs procOutput
	var port int
	apptest.StartLogged(t, app.RoleDev, &logs, func(c *app.Config) {
		port = c.Listener.Addr().(*net.TCPAddr).Port
		c.Listener.Close() // listen on PORT instead; apptest dials the same port
		c.Listener, c.Port = nil, port
	})
	for line := range strings.Lines(logs.String()) {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "API listening" {
			if want := "127.0.0.1:" + strconv.Itoa(port); rec.Addr != want {
				t.Fatalf("the dev API listens on %s, want %s", rec.Addr, want)
			}
			return
		}
	}
	t.Fatalf("no \"API listening\" line in the log:\n%s", logs.String())
}
