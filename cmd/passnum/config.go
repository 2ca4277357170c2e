package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/pflag"
)

// option is one row of the configuration: a flag and the environment
// variable that sets it when the flag is not given. Secrets have no flag
// (value instead), so that they never show in a process list.
type option struct {
	flag   string
	env    string
	secret bool
	value  *string // for environment-only options
}

// resolveEnv applies the environment to the options whose flag was not
// given on the command line; one function for every command's options.
func resolveEnv(fs *pflag.FlagSet, opts []option) error {
	for _, o := range opts {
		v, ok := os.LookupEnv(o.env)
		switch {
		case !ok:
		case o.flag == "":
			*o.value = v
		case !fs.Changed(o.flag):
			if err := fs.Set(o.flag, v); err != nil {
				return fmt.Errorf("%s=%q: %w", o.env, v, err)
			}
		}
	}
	return nil
}

// config is what every command shares.
type config struct {
	DataDir            string
	DatabaseURL        string
	SigningKey         string
	VerificationSecret string
}

func (c *config) options() []option {
	return []option{
		{flag: "data-dir", env: "PASSNUM_DATA_DIR"},
		{flag: "database-url", env: "PASSNUM_DATABASE_URL"},
		{env: "PASSNUM_SIGNING_KEY", secret: true, value: &c.SigningKey},
		{env: "PASSNUM_VERIFICATION_SECRET", secret: true, value: &c.VerificationSecret},
	}
}

func (c *config) bind(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", "passnum-data", "folder for the SQLite database, private keys and generated files ($PASSNUM_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "postgres://… for PostgreSQL; otherwise an SQLite file (default <data-dir>/passnum.db) ($PASSNUM_DATABASE_URL)")
}

func (c *config) resolve(fs *pflag.FlagSet) error {
	if err := resolveEnv(fs, c.options()); err != nil {
		return err
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
func (c *config) print(w io.Writer, fs *pflag.FlagSet) {
	for _, o := range c.options() {
		var v string
		if o.flag != "" {
			v = fs.Lookup(o.flag).Value.String()
		} else {
			v = *o.value
		}
		if o.secret && v != "" {
			v = "****"
		}
		fmt.Fprintf(w, "%-28s %s\n", o.env, maskPassword(v))
	}
}

// maskPassword hides the passwords of a database URL, wherever libpq's
// syntax lets one be written: in the URL's user information, as a
// password= (or sslpassword=) query parameter, or as a keyword=value
// connection string (quoted values included).
func maskPassword(u string) string {
	scheme, rest, isURL := strings.Cut(u, "://")
	if !isURL {
		return dsnPassword.ReplaceAllString(u, "${1}****")
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if user, _, hasPw := strings.Cut(rest[:at], ":"); hasPw {
			rest = user + ":****" + rest[at:]
		}
	}
	return scheme + "://" + queryPassword.ReplaceAllString(rest, "${1}****")
}

var (
	dsnPassword   = regexp.MustCompile(`(?i)(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s']\S*)`)
	queryPassword = regexp.MustCompile(`(?i)([?&](?:ssl)?password=)[^&#]*`)
)
