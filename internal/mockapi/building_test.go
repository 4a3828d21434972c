package mockapi

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// isTenth reports whether f is rounded to 0.1.
func isTenth(f float64) bool { return math.Abs(f*10-math.Round(f*10)) < 1e-9 }

func TestBuildingTemperature(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, query, zone, floor string
		hi                       float64 // 22 + 16 + zone bonus
	}{
		{"defaults", "", "main", "1", 38},
		{"server room bonus", "?zone=server_room&floor=3", "server_room", "3", 46},
		{"rooftop bonus", "?zone=rooftop&floor=9", "rooftop", "9", 44},
		{"zone match is exact", "?zone=Server_Room", "Server_Room", "1", 38},
		{"empty zone is given, not defaulted", "?zone=&floor=", "", "", 38},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHandler(uint64(20 + i))
			temps, humidity := newSpan(), newSpan()
			for range manyRequest {
				res := send(t, h, http.MethodGet, Prefix+"/mock/building/temperature"+tc.query, "").mustStatus(t, 200)
				temp := res.num(t, "temperature")
				temps.add(temp)
				humidity.add(res.num(t, "humidity"))
				if !isTenth(temp) {
					t.Fatalf("temperature %v not rounded to 0.1", temp)
				}
				want := map[string]any{
					"sensor_id": "temp_sensor_" + tc.zone + "_" + tc.floor, "zone": tc.zone, "floor": tc.floor,
					"unit": "celsius", "air_quality": airQualityFor(temp), "last_reading": testNowISO,
					"sensor_status": "active", "calibration_date": isoAt(-30 * 24 * time.Hour),
				}
				got := map[string]any{}
				for k := range want {
					got[k] = res.at(t, k)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("answer (-want +got):\n%s", diff)
				}
			}
			checkWithin(t, "temperature", temps, 22, tc.hi)
			if tc.hi > 38 && temps.hi <= 38 {
				t.Errorf("%s never above 38 °C: the zone bonus is missing", tc.zone)
			}
			if tc.hi-temps.hi > 2 || temps.lo-22 > 1 {
				t.Errorf("temperature drew %v..%v, want to span most of 22..%v", temps.lo, temps.hi, tc.hi)
			}
			checkInclusiveRange(t, "humidity", humidity, 40, 79)
		})
	}
}

func airQualityFor(temp float64) string {
	switch {
	case temp > 30:
		return "poor"
	case temp > 25:
		return "moderate"
	}
	return "good"
}

func alertLevelFor(temp float64) string {
	switch {
	case temp > 35:
		return "critical"
	case temp > 30:
		return "high"
	case temp > 25:
		return "moderate"
	}
	return "normal"
}

func TestLiveTemperature(t *testing.T) {
	t.Parallel()
	tests := []struct{ query, zone, sensorID string }{
		{"", "main_building", "TEMP_MAIN_BUILDING_001"},
		{"?zone=server_room", "server_room", "TEMP_SERVER_ROOM_001"},
		{"?zone=", "", "TEMP__001"},
	}
	for _, tc := range tests {
		res := send(t, newTestHandler(1), http.MethodGet, Prefix+"/mock/sensors/temperature/live"+tc.query, "").mustStatus(t, 200)
		if res.str(t, "zone") != tc.zone || res.str(t, "sensor_id") != tc.sensorID ||
			res.str(t, "id") != "sensor-"+testMS || res.str(t, "timestamp") != testNowISO {
			t.Errorf("%q: %s", tc.query, res.raw)
		}
	}

	h := newTestHandler(30)
	temps, humidity := newSpan(), newSpan()
	hot, warm := 0, 0
	for range manyRequest {
		res := send(t, h, http.MethodGet, Prefix+"/mock/sensors/temperature/live", "")
		temp := res.num(t, "temperature")
		temps.add(temp)
		humidity.add(res.num(t, "humidity"))
		if !isTenth(temp) || res.str(t, "alert_level") != alertLevelFor(temp) || res.boolean(t, "requires_action") != (temp > 30) {
			t.Fatalf("inconsistent reading: %s", res.raw)
		}
		switch {
		case temp >= 30:
			hot++
		case temp >= 25:
			warm++
		}
	}
	checkWithin(t, "temperature", temps, 18, 38)
	checkInclusiveRange(t, "humidity", humidity, 40, 79)
	checkRate(t, "30–38 °C band", hot, manyRequest, 0.4, 0.04)
	checkRate(t, "25–30 °C band", warm, manyRequest, 0.3, 0.04)
}

func TestTemperatureAlertTrigger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body   string
		zone         any
		sensorSuffix string
	}{
		{"default zone", "", "main_building", "MAIN_BUILDING"},
		{"given zone", `{"zone":"lobby"}`, "lobby", "LOBBY"},
		{"null zone is kept", `{"zone":null}`, nil, "NULL"},
	}
	for _, tc := range tests {
		res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/triggers/temperature-alert", tc.body).mustStatus(t, 201)
		if diff := cmp.Diff(tc.zone, res.at(t, "zone")); diff != "" {
			t.Errorf("%s: zone %s", tc.name, diff)
		}
		if diff := cmp.Diff(tc.zone, res.at(t, "sensor_data.zone")); diff != "" {
			t.Errorf("%s: sensor_data.zone %s", tc.name, diff)
		}
		if got := res.str(t, "sensor_data.sensor_id"); got != "TEMP_"+tc.sensorSuffix+"_001" {
			t.Errorf("%s: sensor_id %q", tc.name, got)
		}
	}

	h := newTestHandler(31)
	fired := 0
	for range manyRequest / 4 {
		res := send(t, h, http.MethodPost, Prefix+"/mock/triggers/temperature-alert", "")
		temp := res.num(t, "sensor_data.temperature")
		tempText := formatJSNumber(temp)
		triggered := res.boolean(t, "triggered")
		if triggered != (temp > 30) || triggered != res.boolean(t, "sensor_data.requires_action") {
			t.Fatalf("triggered %v at %v °C", triggered, temp)
		}
		if res.str(t, "trigger_id") != "trigger-"+testMS || res.str(t, "workflow_name") != "🏢 Advanced Building Cooling System" {
			t.Fatalf("ids: %s", res.raw)
		}
		if triggered {
			fired++
			if res.str(t, "reason") != "Temperature "+tempText+"°C exceeds 30°C threshold" ||
				res.str(t, "next_action") != "Starting automated cooling sequence..." ||
				res.str(t, "estimated_completion") != "15 minutes" {
				t.Fatalf("triggered answer: %s", res.raw)
			}
		} else if res.str(t, "reason") != "Temperature "+tempText+"°C is within normal range" ||
			res.str(t, "next_action") != "No action required" || res.has("estimated_completion") {
			t.Fatalf("quiet answer: %s", res.raw)
		}
	}
	if fired == 0 || fired == manyRequest/4 {
		t.Errorf("triggered %d of %d: both outcomes must occur", fired, manyRequest/4)
	}
}

func TestACControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, mode  string
		powerLo, powerHi  float64
		etaLo, etaHi      float64 // 0, 0: null
		wantZone, wantAct any
	}{
		{"turn_on", `{"zone":"lobby","action":"turn_on","target_temperature":21}`, "cooling", 1500, 3499, 5, 19, "lobby", "turn_on"},
		{"turn_off", `{"action":"turn_off"}`, "off", 0, 0, 0, 0, "main", "turn_off"},
		{"other action", `{"action":"boost"}`, "auto", 0, 0, 0, 0, "main", "boost"},
		{"no action", `{}`, "auto", 0, 0, 0, 0, "main", nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHandler(uint64(40 + i))
			power, eta := newSpan(), newSpan()
			failed := 0
			for range manyRequest {
				res := send(t, h, http.MethodPost, Prefix+"/mock/building/ac/control", tc.body).mustStatus(t, 201)
				if res.str(t, "current_mode") != tc.mode || res.str(t, "control_id") != "ac_control_"+testMS ||
					res.str(t, "timestamp") != testNowISO {
					t.Fatalf("answer: %s", res.raw)
				}
				if diff := cmp.Diff([]any{tc.wantZone, tc.wantAct}, []any{res.at(t, "zone"), mayGet(res, "action")}); diff != "" {
					t.Fatalf("zone/action (-want +got):\n%s", diff)
				}
				power.add(res.num(t, "power_consumption"))
				if tc.etaHi == 0 {
					if res.at(t, "estimated_time_to_target") != nil {
						t.Fatalf("estimated_time_to_target must be null: %s", res.raw)
					}
				} else {
					eta.add(res.num(t, "estimated_time_to_target"))
				}
				switch res.str(t, "status") {
				case "success":
					if res.at(t, "error_message") != nil {
						t.Fatalf("success with an error: %s", res.raw)
					}
				case "failed":
					failed++
					if res.at(t, "error_message") != "Communication timeout with AC unit" {
						t.Fatalf("failure message: %s", res.raw)
					}
				default:
					t.Fatalf("status: %s", res.raw)
				}
			}
			if tc.powerHi == 0 {
				checkInclusiveRange(t, "power_consumption", power, 0, 0)
			} else {
				checkWithin(t, "power_consumption", power, tc.powerLo, tc.powerHi)
				checkInclusiveRange(t, "estimated_time_to_target", eta, tc.etaLo, tc.etaHi)
			}
			checkRate(t, "failure", failed, manyRequest, 0.1, 0.025)
		})
	}
}

// mayGet is the value at path, or nil when absent.
func mayGet(r response, path string) any {
	v, _ := lookup(r.obj, path)
	return v
}

func TestNotifyManager(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, priority, message string
		typ                           any
	}{
		{"critical", `{"zone":"lobby","temperature":36}`, "critical", "lobby: 36°C", "temperature_alert"},
		{"35 is high", `{"zone":"lobby","temperature":35}`, "high", "lobby: 35°C", "temperature_alert"},
		{"30.5 is high", `{"zone":"lobby","temperature":30.5}`, "high", "lobby: 30.5°C", "temperature_alert"},
		{"30 is medium", `{"zone":"lobby","temperature":30}`, "medium", "lobby: 30°C", "temperature_alert"},
		{"numeric string compares as a number", `{"zone":"A","temperature":"36.2"}`, "critical", "A: 36.2°C", "temperature_alert"},
		{"non-numeric string", `{"zone":"A","temperature":"hot"}`, "medium", "A: hot°C", "temperature_alert"},
		{"missing values", `{}`, "medium", "undefined: undefined°C", "temperature_alert"},
		{"issue_type given", `{"issue_type":"humidity"}`, "medium", "undefined: undefined°C", "humidity"},
		{"issue_type null stays null", `{"issue_type":null}`, "medium", "undefined: undefined°C", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/building/notifications/manager", tc.body).mustStatus(t, 201)
			want := map[string]any{
				"notification_id": "bldg_notif_" + testMS, "type": tc.typ, "priority": tc.priority,
				"message":      "🌡️ Temperature alert in " + tc.message + " exceeds threshold",
				"manager_name": "Mike Chen", "manager_email": "mike.chen@building.com",
				"manager_phone": "+1-555-BLDG-MGR", "sent_via": []any{"email", "sms", "building_app"},
				"acknowledgment_required": true, "acknowledgment_deadline": isoAt(10 * time.Minute),
				"escalation_contact": "emergency@building.com", "sent_at": testNowISO,
			}
			if diff := cmp.Diff(want, res.obj); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestManagerAckStatus(t *testing.T) {
	t.Parallel()
	h := newTestHandler(50)
	minutes := newSpan()
	acked := 0
	for range manyRequest {
		res := send(t, h, http.MethodGet, Prefix+"/mock/building/notifications/bldg%20n1/status", "").mustStatus(t, 200)
		if res.str(t, "notification_id") != "bldg n1" {
			t.Fatalf("notification_id: %s", res.raw)
		}
		ack := res.boolean(t, "acknowledged")
		if res.boolean(t, "escalation_triggered") == ack {
			t.Fatalf("escalation_triggered must be !acknowledged: %s", res.raw)
		}
		if !ack {
			want := map[string]any{"notification_id": "bldg n1", "acknowledged": false, "acknowledgment_time": nil,
				"response_message": nil, "response_time_minutes": nil, "escalation_triggered": true,
				"status": "pending_escalation"}
			if diff := cmp.Diff(want, res.obj); diff != "" {
				t.Fatalf("unacknowledged (-want +got):\n%s", diff)
			}
			continue
		}
		acked++
		m := res.num(t, "response_time_minutes")
		minutes.add(m)
		if res.str(t, "acknowledgment_time") != isoAt(-time.Duration(m)*time.Minute) ||
			res.str(t, "response_message") != "Issue confirmed. On-site team dispatched." ||
			res.str(t, "status") != "resolved" {
			t.Fatalf("acknowledged: %s", res.raw)
		}
	}
	checkRate(t, "acknowledged", acked, manyRequest, 0.6, 0.04)
	checkInclusiveRange(t, "response_time_minutes", minutes, 2, 13)
}

func TestActivateBackupCooling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, reason string
	}{
		{"no emergency_mode", `{"zone":"lobby"}`, "Manual activation"},
		{"false", `{"emergency_mode":false}`, "Manual activation"},
		{"zero is falsy", `{"emergency_mode":0}`, "Manual activation"},
		{"empty string is falsy", `{"emergency_mode":""}`, "Manual activation"},
		{"true", `{"emergency_mode":true}`, "Manager non-response escalation"},
		{"truthy string", `{"emergency_mode":"false"}`, "Manager non-response escalation"},
	}
	for _, tc := range tests {
		res := send(t, newTestHandler(1), http.MethodPost, Prefix+"/mock/building/backup-cooling/activate", tc.body).mustStatus(t, 201)
		if res.str(t, "activation_reason") != tc.reason {
			t.Errorf("%s: activation_reason %q, want %q", tc.name, res.str(t, "activation_reason"), tc.reason)
		}
		if wantZone := strings.Contains(tc.body, "zone"); res.has("zone") != wantZone {
			t.Errorf("%s: zone present %v, want %v", tc.name, res.has("zone"), wantZone)
		}
	}

	h := newTestHandler(51)
	cooldown, power := newSpan(), newSpan()
	failed := 0
	for range manyRequest {
		res := send(t, h, http.MethodPost, Prefix+"/mock/building/backup-cooling/activate", "")
		cooldown.add(res.num(t, "estimated_cooldown_time"))
		power.add(res.num(t, "power_consumption"))
		fixed := map[string]any{
			"activation_id": "backup_cooling_" + testMS, "system_type": "emergency_hvac",
			"capacity": "150% of normal cooling", "auto_shutoff_time": isoAt(30 * time.Minute),
			"monitoring_frequency": "30 seconds", "activated_at": testNowISO,
		}
		for k, v := range fixed {
			if res.at(t, k) != v {
				t.Fatalf("%s = %v, want %v", k, res.at(t, k), v)
			}
		}
		switch res.str(t, "status") {
		case "activated":
			if res.at(t, "error_message") != nil {
				t.Fatalf("activated with an error: %s", res.raw)
			}
		case "failed":
			failed++
			if res.at(t, "error_message") != "Backup system maintenance required" {
				t.Fatalf("failure message: %s", res.raw)
			}
		default:
			t.Fatalf("status: %s", res.raw)
		}
	}
	checkInclusiveRange(t, "estimated_cooldown_time", cooldown, 10, 19)
	checkWithin(t, "power_consumption", power, 3000, 5999)
	checkRate(t, "failure", failed, manyRequest, 0.05, 0.02)
}
