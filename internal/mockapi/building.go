package mockapi

import (
	"fmt"
	"strings"
	"time"
)

type buildingTemperatureAnswer struct {
	SensorID        string  `json:"sensor_id"`
	Zone            string  `json:"zone"`
	Floor           string  `json:"floor"`
	Temperature     float64 `json:"temperature"`
	Unit            string  `json:"unit"`
	Humidity        int     `json:"humidity"`
	AirQuality      string  `json:"air_quality"`
	LastReading     string  `json:"last_reading"`
	SensorStatus    string  `json:"sensor_status"`
	CalibrationDate string  `json:"calibration_date"`
}

// buildingTemperature is GET mock/building/temperature?zone=main&floor=1:
// 22 + rand·16 °C, plus rand·8 in the server room or rand·6 on the rooftop,
// rounded to 0.1.
func buildingTemperature(c *call) any {
	zone, ok := c.query("zone")
	if !ok {
		zone = "main"
	}
	floor, ok := c.query("floor")
	if !ok {
		floor = "1"
	}
	temp := 22 + c.rnd.float()*16
	switch zone {
	case "server_room":
		temp += c.rnd.float() * 8
	case "rooftop":
		temp += c.rnd.float() * 6
	}
	temp = round1(temp)
	airQuality := "good"
	switch {
	case temp > 30:
		airQuality = "poor"
	case temp > 25:
		airQuality = "moderate"
	}
	return buildingTemperatureAnswer{
		SensorID:        fmt.Sprintf("temp_sensor_%s_%s", zone, floor),
		Zone:            zone,
		Floor:           floor,
		Temperature:     temp,
		Unit:            "celsius",
		Humidity:        c.rnd.between(40, 79),
		AirQuality:      airQuality,
		LastReading:     c.iso(0),
		SensorStatus:    "active",
		CalibrationDate: c.iso(-30 * day),
	}
}

type liveSensorAnswer struct {
	ID             string  `json:"id"`
	Zone           jsValue `json:"zone"`
	Temperature    float64 `json:"temperature"`
	AlertLevel     string  `json:"alert_level"`
	Humidity       int     `json:"humidity"`
	Timestamp      string  `json:"timestamp"`
	RequiresAction bool    `json:"requires_action"`
	SensorID       string  `json:"sensor_id"`
}

// liveTemperature is GET mock/sensors/temperature/live?zone=main_building.
func liveTemperature(c *call) any {
	zone := c.queryValue("zone")
	if !zone.defined() {
		zone = jsString("main_building")
	}
	return liveReading(c, zone)
}

// liveReading draws a temperature skewed hot so that cooling workflows fire:
// 30–38 °C with p 0.4, 25–30 with p 0.3, 18–25 with p 0.3.
func liveReading(c *call, zone jsValue) liveSensorAnswer {
	var temp float64
	switch band := c.rnd.float(); {
	case band < 0.4:
		temp = 30 + c.rnd.float()*8
	case band < 0.7:
		temp = 25 + c.rnd.float()*5
	default:
		temp = 18 + c.rnd.float()*7
	}
	temp = round1(temp)
	level := "normal"
	switch {
	case temp > 35:
		level = "critical"
	case temp > 30:
		level = "high"
	case temp > 25:
		level = "moderate"
	}
	return liveSensorAnswer{
		ID:             fmt.Sprintf("sensor-%d", c.ms()),
		Zone:           zone,
		Temperature:    temp,
		AlertLevel:     level,
		Humidity:       c.rnd.between(40, 79),
		Timestamp:      c.iso(0),
		RequiresAction: temp > 30,
		SensorID:       "TEMP_" + strings.ToUpper(zone.String()) + "_001",
	}
}

type triggerAnswer struct {
	TriggerID           string           `json:"trigger_id"`
	WorkflowName        string           `json:"workflow_name"`
	Triggered           bool             `json:"triggered"`
	Reason              string           `json:"reason"`
	Zone                jsValue          `json:"zone"`
	SensorData          liveSensorAnswer `json:"sensor_data"`
	NextAction          string           `json:"next_action"`
	EstimatedCompletion string           `json:"estimated_completion,omitempty"`
}

// temperatureAlertTrigger is POST mock/triggers/temperature-alert. It only
// reports whether the cooling workflow would start; it starts nothing.
func temperatureAlertTrigger(c *call) any {
	reading := liveReading(c, c.body.orDefault("zone", jsString("main_building")))
	t := formatJSNumber(reading.Temperature)
	a := triggerAnswer{
		TriggerID:    fmt.Sprintf("trigger-%d", c.ms()),
		WorkflowName: "🏢 Advanced Building Cooling System",
		Triggered:    reading.RequiresAction,
		Zone:         reading.Zone,
		SensorData:   reading,
	}
	if reading.RequiresAction {
		a.Reason = "Temperature " + t + "°C exceeds 30°C threshold"
		a.NextAction = "Starting automated cooling sequence..."
		a.EstimatedCompletion = "15 minutes"
	} else {
		a.Reason = "Temperature " + t + "°C is within normal range"
		a.NextAction = "No action required"
	}
	return a
}

type acControlAnswer struct {
	ControlID             string  `json:"control_id"`
	Zone                  jsValue `json:"zone"`
	Action                jsValue `json:"action,omitempty"`
	TargetTemperature     jsValue `json:"target_temperature,omitempty"`
	Status                string  `json:"status"`
	CurrentMode           string  `json:"current_mode"`
	PowerConsumption      int     `json:"power_consumption"`
	EstimatedTimeToTarget *int    `json:"estimated_time_to_target"`
	ErrorMessage          *string `json:"error_message"`
	Timestamp             string  `json:"timestamp"`
}

// acControl is POST mock/building/ac/control: succeeds with p 0.9, and even
// a failure answers 201.
func acControl(c *call) any {
	action := c.body.get("action")
	a := acControlAnswer{
		ControlID:         fmt.Sprintf("ac_control_%d", c.ms()),
		Zone:              c.body.orDefault("zone", jsString("main")),
		Action:            action,
		TargetTemperature: c.body.get("target_temperature"),
		Status:            "success",
		CurrentMode:       "auto",
		Timestamp:         c.iso(0),
	}
	if c.rnd.float() <= 0.1 {
		a.Status = "failed"
		a.ErrorMessage = ptr("Communication timeout with AC unit")
	}
	switch {
	case action.isString("turn_on"):
		a.CurrentMode = "cooling"
		a.PowerConsumption = c.rnd.between(1500, 3499)
		a.EstimatedTimeToTarget = ptr(c.rnd.between(5, 19))
	case action.isString("turn_off"):
		a.CurrentMode = "off"
	}
	return a
}

func ptr[T any](v T) *T { return &v }

type managerNotificationAnswer struct {
	NotificationID         string   `json:"notification_id"`
	Type                   jsValue  `json:"type"`
	Priority               string   `json:"priority"`
	Message                string   `json:"message"`
	ManagerName            string   `json:"manager_name"`
	ManagerEmail           string   `json:"manager_email"`
	ManagerPhone           string   `json:"manager_phone"`
	SentVia                []string `json:"sent_via"`
	AcknowledgmentRequired bool     `json:"acknowledgment_required"`
	AcknowledgmentDeadline string   `json:"acknowledgment_deadline"`
	EscalationContact      string   `json:"escalation_contact"`
	SentAt                 string   `json:"sent_at"`
}

// notifyManager is POST mock/building/notifications/manager. The priority
// compares temperature as JavaScript does (numeric strings count).
func notifyManager(c *call) any {
	zone, temp := c.body.get("zone"), c.body.get("temperature")
	priority := "medium"
	switch t := temp.toNumber(); {
	case t > 35:
		priority = "critical"
	case t > 30:
		priority = "high"
	}
	return managerNotificationAnswer{
		NotificationID:         fmt.Sprintf("bldg_notif_%d", c.ms()),
		Type:                   c.body.orDefault("issue_type", jsString("temperature_alert")),
		Priority:               priority,
		Message:                fmt.Sprintf("🌡️ Temperature alert in %s: %s°C exceeds threshold", zone, temp),
		ManagerName:            "Mike Chen",
		ManagerEmail:           "mike.chen@building.com",
		ManagerPhone:           "+1-555-BLDG-MGR",
		SentVia:                []string{"email", "sms", "building_app"},
		AcknowledgmentRequired: true,
		AcknowledgmentDeadline: c.iso(10 * time.Minute),
		EscalationContact:      "emergency@building.com",
		SentAt:                 c.iso(0),
	}
}

type ackStatusAnswer struct {
	NotificationID      string  `json:"notification_id"`
	Acknowledged        bool    `json:"acknowledged"`
	AcknowledgmentTime  *string `json:"acknowledgment_time"`
	ResponseMessage     *string `json:"response_message"`
	ResponseTimeMinutes *int    `json:"response_time_minutes"`
	EscalationTriggered bool    `json:"escalation_triggered"`
	Status              string  `json:"status"`
}

// managerAckStatus is GET mock/building/notifications/:notificationId/status:
// acknowledged with p 0.6, 2..13 minutes ago.
func managerAckStatus(c *call) any {
	acknowledged := c.rnd.float() > 0.4
	minutes := c.rnd.between(2, 13)
	a := ackStatusAnswer{
		NotificationID:      c.param("notificationId"),
		Acknowledged:        acknowledged,
		EscalationTriggered: !acknowledged,
		Status:              "pending_escalation",
	}
	if acknowledged {
		a.AcknowledgmentTime = ptr(c.iso(-time.Duration(minutes) * time.Minute))
		a.ResponseMessage = ptr("Issue confirmed. On-site team dispatched.")
		a.ResponseTimeMinutes = ptr(minutes)
		a.Status = "resolved"
	}
	return a
}

type backupCoolingAnswer struct {
	ActivationID          string  `json:"activation_id"`
	Zone                  jsValue `json:"zone,omitempty"`
	Status                string  `json:"status"`
	SystemType            string  `json:"system_type"`
	Capacity              string  `json:"capacity"`
	EstimatedCooldownTime int     `json:"estimated_cooldown_time"`
	PowerConsumption      int     `json:"power_consumption"`
	ActivationReason      string  `json:"activation_reason"`
	AutoShutoffTime       string  `json:"auto_shutoff_time"`
	MonitoringFrequency   string  `json:"monitoring_frequency"`
	ErrorMessage          *string `json:"error_message"`
	ActivatedAt           string  `json:"activated_at"`
}

// activateBackupCooling is POST mock/building/backup-cooling/activate:
// succeeds with p 0.95.
func activateBackupCooling(c *call) any {
	success := c.rnd.float() > 0.05
	a := backupCoolingAnswer{
		ActivationID:          fmt.Sprintf("backup_cooling_%d", c.ms()),
		Zone:                  c.body.get("zone"),
		Status:                "activated",
		SystemType:            "emergency_hvac",
		Capacity:              "150% of normal cooling",
		EstimatedCooldownTime: c.rnd.between(10, 19),
		PowerConsumption:      c.rnd.between(3000, 5999),
		ActivationReason:      "Manual activation",
		AutoShutoffTime:       c.iso(30 * time.Minute),
		MonitoringFrequency:   "30 seconds",
		ActivatedAt:           c.iso(0),
	}
	if c.body.orDefault("emergency_mode", jsValue("false")).truthy() {
		a.ActivationReason = "Manager non-response escalation"
	}
	if !success {
		a.Status = "failed"
		a.ErrorMessage = ptr("Backup system maintenance required")
	}
	return a
}
