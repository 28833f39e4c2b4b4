// Package migrations holds the versioned schema changes, embedded in the binary
// so that `todoapi migrate up` needs nothing but a database URL.
package migrations

import "embed"

// FS holds the golang-migrate files: NNNNNN_name.up.sql and NNNNNN_name.down.sql.
//
//go:embed *.sql
var FS embed.FS
