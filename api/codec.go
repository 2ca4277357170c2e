package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/voucher"
)

// decodeJSON reads the request body into v strictly: JSON only, no unknown
// field (a misspelt field silently ignored could redeem the wrong thing),
// nothing after the object. Every failure is a 4xx with a French message.
func (s *server) decodeJSON(c echo.Context, v any) error {
	mt, params, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON || (params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		return newProblem(kindUnsupportedMediaType, codeUnsupportedMediaType, "Envoyez le corps en JSON, avec l'en-tête « Content-Type: application/json ».")
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return s.decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return s.tooLarge(err)
		}
		return &problem{kind: passnum.KindInvalid, code: codeInvalidJSON, cause: err,
			message: "Le corps contient autre chose après l'objet JSON : envoyez un seul objet."}
	}
	return nil
}

func (s *server) decodeError(err error) error {
	var (
		tooBig    *http.MaxBytesError
		syntax    *json.SyntaxError
		wrongType *json.UnmarshalTypeError
	)
	bad := func(format string, args ...any) error {
		return &problem{kind: passnum.KindInvalid, code: codeInvalidJSON, cause: err, message: fmt.Sprintf(format, args...)}
	}
	switch {
	case errors.As(err, &tooBig):
		return s.tooLarge(err)
	case errors.Is(err, io.EOF):
		return bad("Le corps de la requête est vide : envoyez un objet JSON.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return bad("Le JSON est incomplet : vérifiez les accolades et les guillemets.")
	case errors.As(err, &syntax):
		return bad("Le JSON est mal formé (octet %d).", syntax.Offset)
	case errors.As(err, &wrongType):
		if wrongType.Field == "" {
			return bad("Le corps doit être %s.", kindFrench(wrongType.Type))
		}
		return bad("Le champ « %s » doit être %s.", wrongType.Field, kindFrench(wrongType.Type))
	}
	// encoding/json has no type for an unknown field, only this text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unq, uerr := strconv.Unquote(name); uerr == nil {
			name = unq
		}
		return bad("Champ inconnu « %s » : retirez-le, ou vérifiez son orthographe.", passnum.Shorten(name, 64))
	}
	return bad("Le corps de la requête n'est pas un JSON valide.")
}

func kindFrench(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "une chaîne de caractères"
	case reflect.Slice, reflect.Array:
		return "une liste"
	case reflect.Struct, reflect.Map:
		return "un objet"
	case reflect.Bool:
		return "un booléen"
	default:
		return "un nombre"
	}
}

// checkCode refuses control characters in a code typed or scanned (a
// voucher's, a chéquier's, a pairing code), to name the field that holds
// them; free text is the services' to check (passnum.Text).
func checkCode(field, value string) error {
	for _, r := range value {
		if unicode.IsControl(r) {
			return passnum.Invalid("Le champ « %s » contient des caractères de contrôle : retirez-les.", field)
		}
	}
	return nil
}

// query returns a query parameter, refusing it when given twice: which of
// the two the client meant is a guess we do not make.
func query(c echo.Context, name string) (string, bool, error) {
	vs, ok := c.QueryParams()[name]
	switch {
	case !ok:
		return "", false, nil
	case len(vs) > 1:
		return "", false, passnum.Invalid("Le paramètre « %s » est donné plusieurs fois.", name)
	}
	return vs[0], true, nil
}

// queryInt reads an optional integer query parameter within [min, max].
func queryInt(c echo.Context, name string, def, min, max int64) (int64, error) {
	s, ok, err := query(c, name)
	if err != nil || !ok {
		return def, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < min || n > max {
		return 0, passnum.Invalid("Le paramètre « %s » doit être un entier de %d à %d.", name, min, max)
	}
	return n, nil
}

// queryTime reads an optional RFC 3339 time query parameter.
func queryTime(c echo.Context, name string) (time.Time, bool, error) {
	s, ok, err := query(c, name)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	t, err := parseTime(name, s)
	return t, err == nil, err
}

func parseTime(name, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		hint := ""
		if strings.Contains(s, " ") {
			hint = " Dans une URL, écrivez « + » sous la forme %2B."
		}
		return time.Time{}, passnum.Invalid("« %s » doit être une date et heure RFC 3339, par exemple 2026-11-26T14:30:00+01:00.%s", name, hint)
	}
	return t, nil
}

// pathID reads the positive integer id of a path.
func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, passnum.Invalid("L'identifiant doit être un entier positif.")
	}
	return id, nil
}

// respond writes a JSON answer. It encodes before writing, so that an
// encoding failure is still a clean 500 and never half an answer.
func respond(c echo.Context, status int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.JSONBlob(status, data)
}

// parseDay reads a YYYY-MM-DD date given in field.
func parseDay(field, s string) (voucher.Day, error) {
	d, err := voucher.ParseDay(strings.TrimSpace(s))
	if err != nil {
		return 0, passnum.Invalid("« %s » doit être une date AAAA-MM-JJ, par exemple 2027-06-30 (reçu %q).", field, passnum.Shorten(s, 32))
	}
	return d, nil
}

// queryDay reads an optional YYYY-MM-DD query parameter.
func queryDay(c echo.Context, name string) (voucher.Day, bool, error) {
	s, ok, err := query(c, name)
	if err != nil || !ok {
		return 0, false, err
	}
	d, err := parseDay(name, s)
	return d, err == nil, err
}

// queryBool reads an optional true/false query parameter.
func queryBool(c echo.Context, name string) (bool, error) {
	s, ok, err := query(c, name)
	if err != nil || !ok {
		return false, err
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, passnum.Invalid("Le paramètre « %s » vaut true ou false.", name)
	}
	return b, nil
}

// pathParam returns a path parameter unescaped: Echo leaves one escaped
// when the request's path had to keep its escaped form.
func pathParam(c echo.Context, name string) string {
	v := c.Param(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// pathInt reads a positive integer path parameter.
func pathInt(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, passnum.Invalid("« %s » doit être un entier positif.", name)
	}
	return id, nil
}
