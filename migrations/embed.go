// Package migrations holds the numbered SQL migrations of the schema, embedded in the binary.
package migrations

import "embed"

// FS holds every *.sql migration, applied in file-name order by goose.
//
//go:embed *.sql
var FS embed.FS
