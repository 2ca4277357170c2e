package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
)

type healthStatus struct {
	Status string `json:"status"`
}

// healthz says the process answers; it touches nothing, so that a slow
// database never gets a healthy process restarted.
func (s *server) healthz(c echo.Context) error {
	return respond(c, http.StatusOK, healthStatus{Status: "ok"})
}

// readyz says this replica can serve: the database answers and its schema
// is the one this binary was built for.
func (s *server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	err := s.DB.Ping(ctx)
	if err == nil {
		err = s.DB.CheckSchema(ctx)
	}
	if err != nil {
		return &problem{kind: passnum.KindUnavailable, code: codeNotReady, cause: err,
			message: "Le service n'est pas prêt : base de données injoignable ou schéma à migrer."}
	}
	return respond(c, http.StatusOK, healthStatus{Status: "ok"})
}
