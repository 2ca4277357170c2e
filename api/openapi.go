package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument is the contract of this package; the tests validate every
// request and answer against it.
//
//go:embed openapi.yaml
var openAPIDocument []byte

func (s *server) openAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/yaml", openAPIDocument)
}
