// Package migrations embeds the versioned SQL schema, one folder per dialect.
// Files are append-only: a released migration is never edited, a change is a
// new numbered file in both folders.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// FS returns the migrations of one dialect ("postgres" or "sqlite").
func FS(dialect string) (fs.FS, error) {
	return fs.Sub(files, dialect)
}
