// Package migrations holds the schema as golang-migrate files, embedded so
// the binary carries the schema it expects.
package migrations

import "embed"

// FS holds every NNNN_name.up.sql / .down.sql file.
//
//go:embed *.sql
var FS embed.FS
