package mockapi

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTestWeather(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, query, city string
		temp, humidity    float64
		condition         string
	}{
		{"dubai", "?city=dubai", "dubai", 35, 60, "sunny"},
		{"case-insensitive, city echoed as given", "?city=DuBaI", "DuBaI", 35, 60, "sunny"},
		{"london", "?city=London", "London", 15, 80, "cloudy"},
		{"new york", "?city=New%20York", "New York", 22, 65, "partly cloudy"},
		{"tokyo", "?city=tokyo", "tokyo", 18, 70, "rainy"},
		{"sydney", "?city=SYDNEY", "SYDNEY", 25, 55, "clear"},
		{"unknown city gets London's data", "?city=Paris", "Paris", 15, 80, "cloudy"},
		{"empty city means London", "?city=", "London", 15, 80, "cloudy"},
		{"missing city means London", "", "London", 15, 80, "cloudy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, newTestHandler(1), http.MethodGet, Prefix+"/test-weather"+tc.query, "").mustStatus(t, 200)
			want := map[string]any{
				"id":          "weather-" + testMS,
				"city":        tc.city,
				"name":        "Weather for " + tc.city,
				"count":       float64(1),
				"value":       formatJSNumber(tc.temp) + "°C",
				"result":      "success",
				"message":     "Current weather in " + tc.city,
				"humidity":    tc.humidity,
				"condition":   tc.condition,
				"temperature": tc.temp,
				"timestamp":   testNowISO,
			}
			if diff := cmp.Diff(want, res.obj); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCityWeather(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, city string
		temp       float64
		condition  string
	}{
		{"san%20francisco", "san francisco", 18, "partly cloudy"},
		{"New%20York", "New York", 22, "partly cloudy"},
		{"LONDON", "LONDON", 15, "cloudy"}, // 15 is not > 15
		{"tokyo", "tokyo", 24, "partly cloudy"},
		{"sydney", "sydney", 26, "sunny"},
		{"dubai", "dubai", 35, "sunny"},
		{"mumbai", "mumbai", 32, "sunny"},
		{"Singapore", "Singapore", 30, "sunny"},
		{"oslo", "oslo", 20, "partly cloudy"},
		{"a%2Fb", "a/b", 20, "partly cloudy"}, // Express decodes route params
	}
	for _, tc := range tests {
		t.Run(tc.city, func(t *testing.T) {
			t.Parallel()
			res := send(t, newTestHandler(1), http.MethodGet, Prefix+"/mock/weather/"+tc.path, "").mustStatus(t, 200)
			if res.str(t, "city") != tc.city || res.num(t, "temperature") != tc.temp ||
				res.str(t, "condition") != tc.condition || res.str(t, "timestamp") != testNowISO {
				t.Errorf("got %s; want city %q, %v, %q", res.raw, tc.city, tc.temp, tc.condition)
			}
		})
	}

	h := newTestHandler(2)
	humidity := newSpan()
	for range manyRequest {
		humidity.add(send(t, h, http.MethodGet, Prefix+"/mock/weather/oslo", "").num(t, "humidity"))
	}
	checkInclusiveRange(t, "humidity", humidity, 40, 79)
}
