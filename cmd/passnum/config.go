package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"passnum/api"
	"passnum/mail"
	"passnum/sso"
)

// option is one row of the configuration table: an environment variable
// and the flag it stands for, with the default, type, check and secrecy of
// the value. A command declares the flags it takes with bind; resolve,
// which the root command runs before any command, reads and checks them.
type option struct {
	env string
	// flag is empty for a secret: it comes from the environment only, so
	// that it never shows in a process list.
	flag  string
	def   any // the default, of the option's type: string, time.Duration, int or []string
	usage string
	// check says what is wrong with a value and what to do; nil when every
	// value of the type will do.
	check  func(any) error
	secret bool
}

// The rows. A check's message follows the flag or variable's name and says
// what is wrong and what to do.
var (
	optDataDir = &option{env: "PASSNUM_DATA_DIR", flag: "data-dir", def: "passnum-data", check: someFolder,
		usage: "folder for the SQLite database, private keys and generated files"}
	optDatabaseURL = &option{env: "PASSNUM_DATABASE_URL", flag: "database-url", def: "",
		usage: "postgres://… for PostgreSQL; otherwise an SQLite file (default: passnum.db in the data folder)"}
	optSigningKey = &option{env: "PASSNUM_SIGNING_KEY", secret: true, def: "",
		usage: "private key as ID:BASE64-SEED instead of the file keys/signing-ID.pem of the data folder"}
	optVerificationSecret = &option{env: "PASSNUM_VERIFICATION_SECRET", secret: true, def: "",
		usage: "the installation's verification-code secret (base64) instead of the file keys/verification.secret of the data folder: " +
			"only for the keys made before each key derived its own (keys list, column CODES: installation)"}
	optListen = &option{env: "PASSNUM_LISTEN", flag: "listen", def: "127.0.0.1:8080", check: hostPort,
		usage: "address to serve on; port 0 picks a free one"}
	optTLSCert = &option{env: "PASSNUM_TLS_CERT", flag: "tls-cert", def: "",
		usage: "PEM file of the certificate to serve HTTPS with (its chain after it), read again on SIGHUP; with --tls-key. Without both: plain HTTP, for a reverse proxy that terminates TLS"}
	optTLSKey = &option{env: "PASSNUM_TLS_KEY", flag: "tls-key", def: "",
		usage: "PEM file of the certificate's private key, read again on SIGHUP"}
	optRedirectListen = &option{env: "PASSNUM_REDIRECT_LISTEN", flag: "redirect-listen", def: "", check: maybeHostPort,
		usage: "with TLS, a second address (such as :80) whose plain HTTP requests get a redirect to HTTPS"}
	optMetricsListen = &option{env: "PASSNUM_METRICS_LISTEN", flag: "metrics-listen", def: "", check: maybeHostPort,
		usage: "address of /metrics (Prometheus text format) for the operator's monitoring, such as 127.0.0.1:9090: never the public address; none by default"}
	optReversalWindow = &option{env: "PASSNUM_REVERSAL_WINDOW", flag: "reversal-window", def: 30 * time.Minute, check: notNegative,
		usage: "how long a venue may undo a redemption"}
	optSealEvery = &option{env: "PASSNUM_SEAL_EVERY", flag: "seal-every", def: time.Second, check: positive,
		usage: "how often the ledger sealer runs"}
	optCheckpointEvery = &option{env: "PASSNUM_CHECKPOINT_EVERY", flag: "checkpoint-every", def: time.Minute, check: notNegative,
		usage: "least time between two signed checkpoints"}
	optKeyCache = &option{env: "PASSNUM_KEY_CACHE", flag: "key-cache", def: 2 * time.Second, check: notNegative,
		usage: "how long public signing keys and API key lookups stay in memory; a key revoked through another server process still works that long here (through this one: at once)"}
	optTrustedProxies = &option{env: "PASSNUM_TRUSTED_PROXIES", flag: "trusted-proxies", def: []string(nil), check: proxyList,
		usage: "addresses or CIDR blocks of the reverse proxies whose X-Forwarded-For names the client, for the rate limits per address; without them the header is ignored, as anyone could forge it"}
	optVenueBasketBurst = &option{env: "PASSNUM_VENUE_BASKET_BURST", flag: "venue-basket-burst", def: api.DefaultRateLimits.RedemptionsPerVenue.Burst, check: someBaskets,
		usage: "baskets a venue may send at once, all its devices together, before it is held back with 429"}
	optVenueBasketEvery = &option{env: "PASSNUM_VENUE_BASKET_EVERY", flag: "venue-basket-every", def: api.DefaultRateLimits.RedemptionsPerVenue.Every, check: positive,
		usage: "then one more basket per venue this often"}
	optShutdownTimeout = &option{env: "PASSNUM_SHUTDOWN_TIMEOUT", flag: "shutdown-timeout", def: 20 * time.Second, check: notNegative,
		usage: "how long in-flight requests may take to finish on shutdown"}
	optSMTPURL = &option{env: "PASSNUM_SMTP_URL", flag: "smtp-url", def: "", check: smtpURL,
		usage: "the SMTP server emails go through: smtp://USER@HOST:587 (STARTTLS, required), smtps://USER@HOST:465 (TLS), or smtp://HOST:25?starttls=optional for a relay without TLS (then no login); no password here. Empty: each email is printed for the operator to pass on"}
	optSMTPPassword = &option{env: "PASSNUM_SMTP_PASSWORD", secret: true, def: "",
		usage: "the password of the SMTP URL's user (AUTH PLAIN, only ever sent over TLS)"}
	optMailFrom = &option{env: "PASSNUM_MAIL_FROM", flag: "mail-from", def: "", check: mailFrom,
		usage: "the emails' sender, with a name: \"Pass numérique 78 <ne-pas-repondre@yvelines.fr>\"; needed with an SMTP URL"}
	optSMTPTimeout = &option{env: "PASSNUM_SMTP_TIMEOUT", flag: "smtp-timeout", def: 30 * time.Second, check: positive,
		usage: "how long sending one email may take, from connecting to the server's acceptance"}
	optPublicURL = &option{env: "PASSNUM_PUBLIC_URL", flag: "public-url", def: "", check: publicURL,
		usage: "the address people reach passnum at (https://passnum.yvelines.fr), which the links sent by email start with; empty: the address serve listens on"}
	optOIDCIssuer = &option{env: "PASSNUM_OIDC_ISSUER", flag: "oidc-issuer", def: "", check: oidcIssuer,
		usage: "the OpenID Connect provider people may log in with (ProConnect, a département's own), as its issuer URL: https://auth.example.fr; its redirect URL to register is the public URL followed by /connexion/sso. Empty: passwords only"}
	optOIDCName = &option{env: "PASSNUM_OIDC_NAME", flag: "oidc-name", def: "",
		usage: "the provider's name as people know it, on the buttons (\"ProConnect\"); needed with --oidc-issuer"}
	optOIDCClientID = &option{env: "PASSNUM_OIDC_CLIENT_ID", flag: "oidc-client-id", def: "",
		usage: "passnum's client id at the provider; needed with --oidc-issuer"}
	optOIDCClientSecret = &option{env: "PASSNUM_OIDC_CLIENT_SECRET", secret: true, def: "",
		usage: "passnum's client secret at the provider; needed with --oidc-issuer"}
	optVenuesInfo = &option{env: "PASSNUM_VENUES_INFO", flag: "venues-info", def: "", check: fitsCover,
		usage: "where beneficiaries find labelled venues (a URL, an address or a phone number), printed on the chéquiers' covers by print, reprint and the API"}
)

// options is the configuration table, in the order 'passnum config' and
// README list it.
var options = []*option{optDataDir, optDatabaseURL, optSigningKey, optVerificationSecret,
	optListen, optTLSCert, optTLSKey, optRedirectListen, optMetricsListen, optReversalWindow, optSealEvery, optCheckpointEvery, optKeyCache, optTrustedProxies,
	optVenueBasketBurst, optVenueBasketEvery, optShutdownTimeout, optVenuesInfo,
	optSMTPURL, optSMTPPassword, optMailFrom, optSMTPTimeout, optPublicURL,
	optOIDCIssuer, optOIDCName, optOIDCClientID, optOIDCClientSecret}

func someFolder(v any) error {
	if v.(string) == "" {
		return errors.New("the data folder cannot be empty: give one, such as passnum-data")
	}
	return nil
}

func hostPort(v any) error {
	if _, _, err := net.SplitHostPort(v.(string)); err != nil {
		return fmt.Errorf("%q is not an address with a port: write it as 127.0.0.1:8080, or :8080 for every interface", v)
	}
	return nil
}

func maybeHostPort(v any) error {
	if v.(string) == "" {
		return nil
	}
	return hostPort(v)
}

func positive(v any) error {
	if d := v.(time.Duration); d <= 0 {
		return fmt.Errorf("%s is too short: give a duration of more than 0, such as 1s or 5m", d)
	}
	return nil
}

func notNegative(v any) error {
	if d := v.(time.Duration); d < 0 {
		return fmt.Errorf("%s is negative: give 0 or a duration such as 30s or 5m", d)
	}
	return nil
}

func proxyList(v any) error {
	_, err := parseProxies(v.([]string))
	return err
}

func someBaskets(v any) error {
	if n := v.(int); n < 1 {
		return fmt.Errorf("%d baskets at once would refuse every basket: give 1 or more", n)
	}
	return nil
}

func smtpURL(v any) error { return mail.CheckURL(v.(string)) }

func mailFrom(v any) error {
	if v.(string) == "" {
		return nil
	}
	_, err := mail.CheckFrom(v.(string))
	return err
}

// publicURL is an http(s) address with a host and nothing after it but a
// path: the links of the emails are made by adding theirs.
func publicURL(v any) error {
	s := v.(string)
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q is not the address of a web server: give it as https://passnum.example.fr", s)
	}
	return nil
}

func oidcIssuer(v any) error {
	if v.(string) == "" {
		return nil
	}
	return sso.CheckURL(v.(string))
}

// fitsCover is printing's limit, checked at start rather than when the
// first chéquier is printed.
func fitsCover(v any) error {
	if n := utf8.RuneCountInString(v.(string)); n > 160 {
		return fmt.Errorf("%d characters are too many: at most 160 fit on a chéquier's cover", n)
	}
	return nil
}

// envAnnotation marks a flag declared from a row of the table, with the
// row's environment variable: only those are resolved from the
// environment, and a flag of the same name declared otherwise is not.
const envAnnotation = "passnum-env"

// bind declares o's flag on fs, stored in p (a pointer to o's type).
func (o *option) bind(fs *pflag.FlagSet, p any) {
	env := "$" + o.env
	switch def := o.def.(type) {
	case string:
		fs.StringVar(p.(*string), o.flag, def, o.usage+" ("+env+")")
	case time.Duration:
		fs.DurationVar(p.(*time.Duration), o.flag, def, o.usage+" ("+env+")")
	case int:
		fs.IntVar(p.(*int), o.flag, def, o.usage+" ("+env+")")
	case []string:
		fs.StringSliceVar(p.(*[]string), o.flag, def, o.usage+" ("+env+", comma-separated)")
	default:
		panic(fmt.Sprintf("option %s: no flag for a %T", o.env, o.def))
	}
	fs.SetAnnotation(o.flag, envAnnotation, []string{o.env})
}

// boundOption is the row f was declared from, or nil.
func boundOption(f *pflag.Flag) *option {
	if env := f.Annotations[envAnnotation]; len(env) == 1 {
		for _, o := range options {
			if o.env == env[0] {
				return o
			}
		}
	}
	return nil
}

// value is o's value on fs, of o's type.
func (o *option) value(fs *pflag.FlagSet) any {
	var v any
	switch o.def.(type) {
	case string:
		v, _ = fs.GetString(o.flag)
	case time.Duration:
		v, _ = fs.GetDuration(o.flag)
	case int:
		v, _ = fs.GetInt(o.flag)
	case []string:
		v, _ = fs.GetStringSlice(o.flag)
	}
	return v
}

// source is where an option's value came from.
type source string

const (
	fromDefault source = "default"
	fromEnv     source = "environment"
	fromFlag    source = "flag"
)

// config is what every command shares.
type config struct {
	DataDir            string
	DatabaseURL        string
	SigningKey         string
	VerificationSecret string
	SMTPPassword       string
	OIDCClientSecret   string
	// from says where the value of each option bound on the command came
	// from, for 'passnum config'.
	from map[*option]source
}

func (c *config) bind(fs *pflag.FlagSet) {
	optDataDir.bind(fs, &c.DataDir)
	optDatabaseURL.bind(fs, &c.DatabaseURL)
}

// resolve applies the environment to the options bound on fs whose flag
// was not given, then checks every one; an error names the flag or the
// variable the wrong value came from.
func (c *config) resolve(fs *pflag.FlagSet) error {
	c.from = map[*option]source{}
	for _, s := range []struct {
		o *option
		p *string
	}{{optSigningKey, &c.SigningKey}, {optVerificationSecret, &c.VerificationSecret}, {optSMTPPassword, &c.SMTPPassword}, {optOIDCClientSecret, &c.OIDCClientSecret}} {
		v, ok := os.LookupEnv(s.o.env)
		*s.p, c.from[s.o] = v, fromDefault
		if ok {
			c.from[s.o] = fromEnv
		}
	}
	for _, o := range options {
		f := fs.Lookup(o.flag)
		if f == nil || boundOption(f) != o {
			continue
		}
		v, inEnv := os.LookupEnv(o.env)
		switch {
		case f.Changed:
			c.from[o] = fromFlag
		case inEnv:
			c.from[o] = fromEnv
			if err := fs.Set(o.flag, v); err != nil {
				return fmt.Errorf("%s: %w", o.env, notOfType(f.Value.Type(), v, err))
			}
		default:
			c.from[o] = fromDefault
		}
		if o.check == nil {
			continue
		}
		if err := o.check(o.value(fs)); err != nil {
			if c.from[o] == fromEnv {
				return fmt.Errorf("%s: %w", o.env, err)
			}
			return fmt.Errorf("--%s: %w", o.flag, err)
		}
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "passnum.db")
	}
	return nil
}

// flagError words a value a flag's type cannot hold as the environment's
// are (resolve), so that both say the same.
func flagError(_ *cobra.Command, err error) error {
	var bad *pflag.InvalidValueError
	if errors.As(err, &bad) {
		f := bad.GetFlag()
		return fmt.Errorf("--%s: %w", f.Name, notOfType(f.Value.Type(), bad.GetValue(), bad.Unwrap()))
	}
	return err
}

func notOfType(typ, v string, err error) error {
	switch typ {
	case "duration":
		return fmt.Errorf("%q is not a duration: write it as 30s, 5m or 1h", v)
	case "int", "int64":
		return fmt.Errorf("%q is not a whole number", v)
	}
	return err
}

// print writes every option of the table with its effective value, secrets
// masked, where it came from and the commands that take it. root is the
// command tree, cmd the command whose flags hold the values.
func (c *config) print(w io.Writer, root, cmd *cobra.Command) {
	users := optionUsers(root)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OPTION\tFLAG\tVALUE\tFROM\tCOMMANDS")
	for _, o := range options {
		flag, v := "(secret)", os.Getenv(o.env)
		switch {
		case o == optDatabaseURL:
			flag, v = "--"+o.flag, c.DatabaseURL // its default depends on the data folder
		case !o.secret:
			flag, v = "--"+o.flag, display(o.value(cmd.Flags()))
		case v != "":
			v = "****"
		}
		if v == "" {
			v = `""`
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.env, flag, maskPassword(v), c.from[o], strings.Join(users[o], ", "))
	}
	tw.Flush()
}

// display writes a value as it is typed on the command line.
func display(v any) string {
	switch v := v.(type) {
	case time.Duration:
		s := v.String() // 30m0s, 1h0m0s
		if strings.HasSuffix(s, "m0s") {
			s = s[:len(s)-2]
		}
		if strings.HasSuffix(s, "h0m") {
			s = s[:len(s)-2]
		}
		return s
	case int:
		return strconv.Itoa(v)
	case []string:
		return strings.Join(v, ",")
	}
	return fmt.Sprint(v)
}

// optionUsers lists, for each option, the commands that take it ("every
// command" for the root's and the secrets), leaving out config, which takes
// them all.
func optionUsers(root *cobra.Command) map[*option][]string {
	users := map[*option][]string{optSigningKey: {"every command"}, optVerificationSecret: {"every command"}}
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if o := boundOption(f); o != nil {
			users[o] = []string{"every command"}
		}
	})
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		name := strings.TrimPrefix(c.CommandPath(), root.Name()+" ")
		if name != "config" {
			c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
				if o := boundOption(f); o != nil {
					users[o] = append(users[o], name)
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	users[optSMTPPassword] = users[optSMTPURL] // the password goes with the URL
	users[optOIDCClientSecret] = users[optOIDCIssuer]
	return users
}

// bindAll declares on fs every option of the table but the global ones
// (bound on the root), each in a variable of its own, so that 'passnum
// config' resolves and checks them all as the commands that take them do.
func bindAll(fs, global *pflag.FlagSet) {
	for _, o := range options {
		if o.flag != "" && global.Lookup(o.flag) == nil {
			o.bind(fs, reflect.New(reflect.TypeOf(o.def)).Interface())
		}
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
