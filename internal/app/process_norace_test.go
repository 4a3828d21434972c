//go:build !race

package app_test

// raceEnabled: the tests run without -race.
const raceEnabled = false
