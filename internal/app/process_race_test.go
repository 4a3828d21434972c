//go:build race

package app_test

// raceEnabled: the tests run with -race, so the process tests build the binary with it too.
const raceEnabled = true
