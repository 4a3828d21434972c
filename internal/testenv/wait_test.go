package testenv

import "testing"

// Deadlines grow on small machines by default, follow TEST_TIME_SCALE when it is set, and a
// mistyped TEST_TIME_SCALE is an error rather than a silently shorter deadline.
func TestParseTimeScale(t *testing.T) {
	tests := []struct {
		env     string
		cpus    int
		want    float64
		wantErr bool
	}{
		{"", 8, 1, false},
		{"", 4, 1, false},
		{"", 2, 2, false},
		{"", 1, 4, false},
		{"3", 2, 3, false},
		{"0.5", 8, 0.5, false},
		{"0", 8, 0, true},
		{"-2", 8, 0, true},
		{"NaN", 8, 0, true},
		{"two", 8, 0, true},
		{"1e9", 8, 0, true},
	}
	for _, tc := range tests {
		got, err := parseTimeScale(tc.env, tc.cpus)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("TEST_TIME_SCALE=%q on %d CPUs: %v, %v; want %v (error %v)", tc.env, tc.cpus, got, err, tc.want, tc.wantErr)
		}
	}
}
