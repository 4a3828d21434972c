package mockapi

import (
	"fmt"
	"strings"
)

type testWeatherAnswer struct {
	ID          string `json:"id"`
	City        string `json:"city"`
	Name        string `json:"name"`
	Count       int    `json:"count"`
	Value       string `json:"value"`
	Result      string `json:"result"`
	Message     string `json:"message"`
	Humidity    int    `json:"humidity"`
	Condition   string `json:"condition"`
	Temperature int    `json:"temperature"`
	Timestamp   string `json:"timestamp"`
}

// testWeather is GET /workflows/api/test-weather?city=: fixed readings per
// city (case-insensitive), London's for unknown cities, "London" when the
// city is empty or missing.
func testWeather(c *call) any {
	city, _ := c.query("city")
	if city == "" {
		city = "London"
	}
	reading, ok := c.cat.testWeather[strings.ToLower(city)]
	if !ok {
		reading = c.cat.testWeather["london"]
	}
	return testWeatherAnswer{
		ID:          fmt.Sprintf("weather-%d", c.ms()),
		City:        city,
		Name:        "Weather for " + city,
		Count:       1,
		Value:       fmt.Sprintf("%d°C", reading.temperature),
		Result:      "success",
		Message:     "Current weather in " + city,
		Humidity:    reading.humidity,
		Condition:   reading.condition,
		Temperature: reading.temperature,
		Timestamp:   c.iso(0),
	}
}

type cityWeatherAnswer struct {
	City        string `json:"city"`
	Temperature int    `json:"temperature"`
	Condition   string `json:"condition"`
	Humidity    int    `json:"humidity"`
	Timestamp   string `json:"timestamp"`
}

// cityWeather is GET mock/weather/:city.
func cityWeather(c *call) any {
	city := c.param("city")
	temp, ok := c.cat.cityTemperatures[strings.ToLower(city)]
	if !ok {
		temp = 20
	}
	condition := "cloudy"
	switch {
	case temp > 25:
		condition = "sunny"
	case temp > 15:
		condition = "partly cloudy"
	}
	return cityWeatherAnswer{
		City:        city,
		Temperature: temp,
		Condition:   condition,
		Humidity:    c.rnd.between(40, 79),
		Timestamp:   c.iso(0),
	}
}
