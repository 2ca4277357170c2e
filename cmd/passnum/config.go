package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// option is one row of the configuration: every option has a flag, an
// environment variable and a default that runs; secrets come from the
// environment only, so they never show in a process list.
type option struct {
	flag, env, def, help string
	secret               bool
	value                *string
}

type config struct {
	DataDir            string
	DatabaseURL        string
	SigningKey         string
	VerificationSecret string
}

func (c *config) options() []option {
	return []option{
		{flag: "data-dir", env: "PASSNUM_DATA_DIR", def: "passnum-data", value: &c.DataDir,
			help: "folder for the SQLite database, private keys and generated files"},
		{flag: "database-url", env: "PASSNUM_DATABASE_URL", def: "", value: &c.DatabaseURL,
			help: "postgres://… for PostgreSQL; otherwise an SQLite file (default <data-dir>/passnum.db)"},
		{env: "PASSNUM_SIGNING_KEY", secret: true, value: &c.SigningKey,
			help: `a private signing key as "<id>:<base64 seed>", instead of its file`},
		{env: "PASSNUM_VERIFICATION_SECRET", secret: true, value: &c.VerificationSecret,
			help: "the verification-code secret in base64, instead of its file"},
	}
}

// bind registers the flags; the environment fills what flags leave unset.
func (c *config) bind(cmd *cobra.Command) {
	for _, o := range c.options() {
		if o.flag != "" {
			cmd.PersistentFlags().StringVar(o.value, o.flag, o.def, o.help+" ($"+o.env+")")
		}
	}
}

// resolve applies environment variables to options whose flag was not given.
func (c *config) resolve(cmd *cobra.Command) error {
	for _, o := range c.options() {
		if o.flag != "" && cmd.Flags().Changed(o.flag) {
			continue
		}
		if v, ok := os.LookupEnv(o.env); ok {
			*o.value = v
		}
	}
	if c.DataDir == "" {
		return fmt.Errorf("the data folder cannot be empty: set --data-dir or PASSNUM_DATA_DIR")
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "passnum.db")
	}
	return nil
}

// print writes the effective configuration with secrets masked.
func (c *config) print(w io.Writer) {
	for _, o := range c.options() {
		v := *o.value
		if o.secret && v != "" {
			v = "****"
		}
		if o.value == &c.DatabaseURL {
			v = maskPassword(v)
		}
		fmt.Fprintf(w, "%-28s %s\n", o.env, v)
	}
}

// maskPassword hides the password of a database URL.
func maskPassword(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	at := strings.LastIndex(rest, "@")
	if !ok || at < 0 {
		return u
	}
	user, _, hasPw := strings.Cut(rest[:at], ":")
	if !hasPw {
		return u
	}
	return scheme + "://" + user + ":****" + rest[at:]
}
