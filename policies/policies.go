// Package policies holds the row-level security policies as the SQL a DBA
// reviews. `todoapi migrate up` drops every policy on the tables it manages and
// re-creates them from these files in one transaction, so what is in force is
// always exactly what these files say.
package policies

import "embed"

// FS holds one .sql file per table.
//
//go:embed *.sql
var FS embed.FS
