package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestOptionTable walks the command tree: an environment variable is
// read only through a row of the table, a flag named as a row is declared
// from it (not a second time with its own default), every row is taken by
// some command, and every default passes its row's check.
func TestOptionTable(t *testing.T) {
	root := newRootCmd()
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		check := func(f *pflag.Flag) {
			o := boundOption(f)
			if o == nil && strings.Contains(f.Usage, "PASSNUM_") {
				t.Errorf("%s --%s names an environment variable but is not declared from the option table", c.CommandPath(), f.Name)
			}
			for _, row := range options {
				if row.flag == f.Name && o != row {
					t.Errorf("%s --%s is declared again outside the table (row %s)", c.CommandPath(), f.Name, row.env)
				}
			}
		}
		c.LocalNonPersistentFlags().VisitAll(check)
		c.PersistentFlags().VisitAll(check)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	users := optionUsers(root)
	envs := map[string]bool{}
	for _, o := range options {
		if len(users[o]) == 0 {
			t.Errorf("no command takes %s", o.env)
		}
		if envs[o.env] || !strings.HasPrefix(o.env, "PASSNUM_") {
			t.Errorf("%s: environment variables are PASSNUM_… and each has one row", o.env)
		}
		envs[o.env] = true
		if o.secret != (o.flag == "") {
			t.Errorf("%s: a secret has no flag, and only a secret", o.env)
		}
		if o.check != nil {
			if err := o.check(o.def); err != nil {
				t.Errorf("%s: the default %v is refused: %v", o.env, o.def, err)
			}
		}
	}
}

// badValues are, for each option with a check, a value it refuses and the
// message's words; TestOptionsRefuseBadValues also gives every duration and
// number a word it cannot parse.
var badValues = []struct{ env, value, want string }{
	{"PASSNUM_DATA_DIR", "", "the data folder cannot be empty"},
	{"PASSNUM_LISTEN", "8080", `"8080" is not an address with a port: write it as 127.0.0.1:8080`},
	{"PASSNUM_REDIRECT_LISTEN", "80", `"80" is not an address with a port`},
	{"PASSNUM_METRICS_LISTEN", "9090", `"9090" is not an address with a port`},
	{"PASSNUM_REVERSAL_WINDOW", "-1m", "-1m0s is negative: give 0 or a duration"},
	{"PASSNUM_SEAL_EVERY", "0s", "0s is too short: give a duration of more than 0"},
	{"PASSNUM_CHECKPOINT_EVERY", "-1s", "-1s is negative"},
	{"PASSNUM_KEY_CACHE", "-2s", "-2s is negative"},
	{"PASSNUM_TRUSTED_PROXIES", "10.0.0.1,10.0.0.0/33", `"10.0.0.0/33" is neither an IP address nor a CIDR block`},
	{"PASSNUM_VENUE_BASKET_BURST", "0", "0 baskets at once would refuse every basket: give 1 or more"},
	{"PASSNUM_VENUE_BASKET_EVERY", "0s", "0s is too short"},
	{"PASSNUM_SHUTDOWN_TIMEOUT", "-20s", "-20s is negative"},
	{"PASSNUM_SMTP_URL", "smtp://passnum:hunter2@mail.yvelines.fr", `"smtp://passnum:****@mail.yvelines.fr" has a password: give it in PASSNUM_SMTP_PASSWORD instead`},
	{"PASSNUM_MAIL_FROM", "ne-pas-repondre", `"ne-pas-repondre" is not an email address: write it as "Pass numérique 78 <ne-pas-repondre@yvelines.fr>"`},
	{"PASSNUM_SMTP_TIMEOUT", "0s", "0s is too short"},
	{"PASSNUM_VENUES_INFO", strings.Repeat("www.yvelines.fr ", 11), "176 characters are too many: at most 160 fit on a chéquier's cover"},
	{"PASSNUM_PUBLIC_URL", "passnum.yvelines.fr", `"passnum.yvelines.fr" is not the address of a web server: give it as https://passnum.example.fr`},
	{"PASSNUM_OIDC_ISSUER", "http://auth.yvelines.fr", `"http://auth.yvelines.fr" is not an https:// address: give it as https://auth.example.fr (plain http only on loopback)`},
}

// TestOptionsRefuseBadValues runs every command that takes an option with
// a value it refuses, by flag and by environment: each says so in one line
// naming where the value came from, before doing anything.
func TestOptionsRefuseBadValues(t *testing.T) {
	root := newRootCmd()
	users := optionUsers(root)
	cases := slices.Clone(badValues)
	for _, o := range options {
		switch o.def.(type) {
		case time.Duration:
			cases = append(cases, struct{ env, value, want string }{o.env, "soon", `"soon" is not a duration: write it as 30s, 5m or 1h`})
		case int:
			cases = append(cases, struct{ env, value, want string }{o.env, "many", `"many" is not a whole number`})
		}
		if o.check != nil && !slices.ContainsFunc(badValues, func(c struct{ env, value, want string }) bool { return c.env == o.env }) {
			t.Errorf("%s has a check but no bad value here", o.env)
		}
	}
	dir := t.TempDir() // no database: the options are refused before one is opened
	for _, c := range cases {
		o := options[slices.IndexFunc(options, func(o *option) bool { return o.env == c.env })]
		commands := append([]string{"config"}, users[o]...)
		if commands[1] == "every command" {
			commands[1] = "department list"
		}
		for _, command := range commands {
			args := strings.Fields(command)
			// The commands' one argument, so that the options are what is refused.
			args = append(args, map[string][]string{"user invite": {"agent@yvelines.fr"}, "venue approve": {"1"}, "department confirm": {"78"}}[command]...)
			for _, by := range []struct {
				name string
				env  []string
				args []string
			}{
				{"--" + o.flag, []string{"PASSNUM_DATA_DIR=" + dir}, append(slices.Clone(args), "--"+o.flag+"="+c.value)},
				{o.env, []string{"PASSNUM_DATA_DIR=" + dir, o.env + "=" + c.value}, args},
			} {
				r := run(t, by.env, by.args...)
				if want := "passnum: " + by.name + ": " + c.want; r.code != 1 || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
					t.Errorf("passnum %s with %s=%q: exit %d, stdout %q, stderr %q; want %q…", command, by.name, c.value, r.code, r.stdout, r.stderr, want)
				}
			}
		}
	}
	// A flag wins over the environment, which is then not even read.
	out := mustRun(t, []string{"PASSNUM_DATA_DIR=" + dir, "PASSNUM_SEAL_EVERY=0s"}, "config", "--seal-every", "2s")
	if !hasLine(out, "PASSNUM_SEAL_EVERY", "--seal-every", "2s", "flag", "demo, serve") {
		t.Errorf("config with --seal-every 2s over PASSNUM_SEAL_EVERY=0s:\n%s", out)
	}
}

// TestConfigListsEveryOption: 'passnum config' prints every row of the
// table with its value and where the value came from.
func TestConfigListsEveryOption(t *testing.T) {
	dir := t.TempDir()
	out := mustRun(t, []string{"PASSNUM_DATA_DIR=" + dir, "PASSNUM_KEY_CACHE=0s", "PASSNUM_SIGNING_KEY=1:c2VlZA=="}, "config", "--listen", ":9000")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(options)+1 {
		t.Fatalf("config prints %d lines for %d options:\n%s", len(lines), len(options), out)
	}
	for i, o := range options {
		if f := strings.Fields(lines[i+1]); f[0] != o.env {
			t.Errorf("line %d is %q, want option %s", i+2, lines[i+1], o.env)
		}
	}
	for _, want := range [][]string{
		{"PASSNUM_DATA_DIR", "--data-dir", dir, "environment", "every command"},
		{"PASSNUM_DATABASE_URL", "--database-url", dir + "/passnum.db", "default", "every command"},
		{"PASSNUM_SIGNING_KEY", "(secret)", "****", "environment", "every command"},
		{"PASSNUM_VERIFICATION_SECRET", "(secret)", `""`, "default", "every command"},
		{"PASSNUM_LISTEN", "--listen", ":9000", "flag", "demo, serve"},
		{"PASSNUM_KEY_CACHE", "--key-cache", "0s", "environment", "demo, serve"},
		{"PASSNUM_REVERSAL_WINDOW", "--reversal-window", "30m", "default", "demo, serve"},
		{"PASSNUM_VENUE_BASKET_BURST", "--venue-basket-burst", "120", "default", "demo, serve"},
		{"PASSNUM_VENUES_INFO", "--venues-info", `""`, "default", "demo, print, reprint, serve"},
		{"PASSNUM_SMTP_URL", "--smtp-url", `""`, "default", "demo, department confirm, mail test, serve, user invite, venue approve"},
		{"PASSNUM_SMTP_PASSWORD", "(secret)", `""`, "default", "demo, department confirm, mail test, serve, user invite, venue approve"},
		{"PASSNUM_SMTP_TIMEOUT", "--smtp-timeout", "30s", "default", "demo, department confirm, mail test, serve, user invite, venue approve"},
		{"PASSNUM_PUBLIC_URL", "--public-url", `""`, "default", "demo, serve, user invite"},
	} {
		if !hasLine(out, want...) {
			t.Errorf("config has no line %q:\n%s", strings.Join(want, "  "), out)
		}
	}
}

// hasLine reports whether out has a line made of these columns.
func hasLine(out string, columns ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(line), " ") == strings.Join(columns, " ") {
			return true
		}
	}
	return false
}

// TestREADMEConfiguration keeps README's configuration table equal to
// the option table.
func TestREADMEConfiguration(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "### Configuration\n")
	if !ok {
		t.Fatal("README has no Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n#")
	var got []string // the section's first table
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "|") {
			got = append(got, line)
		} else if len(got) > 0 {
			break
		}
	}
	want := configurationTable(optionUsers(newRootCmd()))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("README's configuration table differs from the option table (cmd/passnum/config.go); it should read:\n\n%s", strings.Join(want, "\n"))
	}
}

// configurationTable is README's table of the options, in Markdown.
func configurationTable(users map[*option][]string) []string {
	lines := []string{"| environment | flag | commands | type | default | meaning |", "| --- | --- | --- | --- | --- | --- |"}
	for _, o := range options {
		flag := "– (secret)"
		if o.flag != "" {
			flag = "`--" + o.flag + "`"
		}
		typ := map[string]string{"string": "text", "time.Duration": "duration", "int": "number", "[]string": "comma-separated list"}[fmt.Sprintf("%T", o.def)]
		def := "none"
		if v := display(o.def); v != "" {
			def = "`" + v + "`"
		}
		lines = append(lines, fmt.Sprintf("| `%s` | %s | %s | %s | %s | %s |", o.env, flag, strings.Join(users[o], ", "), typ, def, o.usage))
	}
	return lines
}
