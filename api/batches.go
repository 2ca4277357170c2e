package api

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"passnum"
	"passnum/issuing"
	"passnum/ledger"
	"passnum/printing"
	"passnum/programme"
	"passnum/redemption"
	"passnum/voucher"
)

// maxAPIChequiers caps a batch ordered over HTTP. Issue is synchronous and
// must finish well within the server's 45-second write timeout
// (cmd/passnum/serve.go): 2,000 chéquiers of at most 50 vouchers are
// 100,000 signed vouchers, which a two-core machine issues well within it
// (docs/BENCHMARKS.md, "Issuing over HTTP"). A whole programme (18,000
// chéquiers) is ordered with 'passnum issue', which has no deadline and
// shows its progress.
//
// The cap is the API's, not a rule of the programme (issuing allows
// MaxChequiers a batch): it stays here, with its own code so that its hint
// (hints.go: split the order, or use 'passnum issue') can be told apart
// from issuing's rules, which are the same on both edges.
const maxAPIChequiers = 2_000

// codeBatchTooLarge refuses an order beyond maxAPIChequiers.
const codeBatchTooLarge = "batch_too_large"

type batchRequest struct {
	Department          string `json:"department"`
	Chequiers           int    `json:"chequiers"`
	VouchersPerChequier int    `json:"vouchers_per_chequier"`
	FaceValueCents      int64  `json:"face_value_cents"`
	ProgrammeEnd        string `json:"programme_end,omitempty"`
	ValidUntil          string `json:"valid_until,omitempty"`
	RequiresActivation  *bool  `json:"requires_activation,omitempty"` // default true
}

type batchJSON struct {
	ID                  int64       `json:"id"`
	Department          string      `json:"department"`
	Chequiers           int         `json:"chequiers"`
	VouchersPerChequier int         `json:"vouchers_per_chequier"`
	FaceValueCents      int64       `json:"face_value_cents"`
	TotalCents          int64       `json:"total_cents"`
	ValidFrom           voucher.Day `json:"valid_from"`
	ProgrammeEnd        voucher.Day `json:"programme_end"`
	ValidUntil          voucher.Day `json:"valid_until"`
	RequiresActivation  bool        `json:"requires_activation"`
	FirstChequier       string      `json:"first_chequier"`
	LastChequier        string      `json:"last_chequier"`
	FirstVoucher        string      `json:"first_voucher"`
	LastVoucher         string      `json:"last_voucher"`
	KeyID               int16       `json:"key_id"`
	CodesSHA256         string      `json:"codes_sha256"`
	CreatedAt           time.Time   `json:"created_at"`
	Stage               string      `json:"stage"`
}

type chequierCountsJSON struct {
	Issued int64 `json:"issued"`
	Active int64 `json:"active"`
	Void   int64 `json:"void"`
}

type batchDetail struct {
	batchJSON
	Timeline          issuing.Timeline   `json:"timeline"`
	ChequiersByStatus chequierCountsJSON `json:"chequiers_by_status"`
}

type batchList struct {
	Batches []batchJSON `json:"batches"`
}

func newBatch(b ledger.Batch, today voucher.Day) batchJSON {
	return batchJSON{ID: b.ID, Department: b.DepartmentCode, Chequiers: b.ChequierCount, VouchersPerChequier: b.VouchersPerChequier,
		FaceValueCents: b.FaceValueCents, TotalCents: b.TotalCents, ValidFrom: b.ValidFrom.Day(), ProgrammeEnd: b.ProgrammeEnd.Day(),
		ValidUntil: b.ValidUntil.Day(), RequiresActivation: b.RequiresActivation,
		FirstChequier: voucher.FormatChequierNumber(b.DepartmentCode, uint16(b.Year), uint32(b.FirstChequierSeq)),
		LastChequier:  voucher.FormatChequierNumber(b.DepartmentCode, uint16(b.Year), uint32(b.LastChequierSeq)),
		FirstVoucher:  voucher.FormatNumber(uint64(b.FirstSerial)), LastVoucher: voucher.FormatNumber(uint64(b.LastSerial)),
		KeyID: b.KeyID, CodesSHA256: fmt.Sprintf("%x", b.CodesSHA256), CreatedAt: b.CreatedAt.UTC(),
		Stage: string(issuing.TimelineOf(&b, today).Stage)}
}

// today is the request's day in Europe/Paris, the day validity dates mean.
func (s *server) today() voucher.Day { return voucher.Today(s.now()) }

// createBatch issues a batch synchronously: every chéquier and voucher
// exists when it answers, or nothing does. The order is checked by
// issuing (BatchRequest.Validate), as 'passnum issue' is.
func (s *server) createBatch(c echo.Context) error {
	var req batchRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Chequiers > maxAPIChequiers {
		return newProblem(passnum.KindInvalid, codeBatchTooLarge, "Une commande passée par l'API compte au plus %d chéquiers, pas %d : au-delà, la création ne tiendrait pas dans le délai d'une requête.", maxAPIChequiers, req.Chequiers)
	}
	p := principal(c)
	dept, err := passnum.DepartmentCode(req.Department)
	if err != nil {
		return err
	}
	if err := requireDepartment(p, dept); err != nil {
		return err
	}
	br := issuing.BatchRequest{Department: dept, Chequiers: req.Chequiers, VouchersPerChequier: req.VouchersPerChequier,
		FaceValueCents: req.FaceValueCents, RequiresActivation: req.RequiresActivation == nil || *req.RequiresActivation, Actor: p.Actor()}
	for _, d := range [...]struct {
		field, value string
		day          *voucher.Day
	}{{"programme_end", req.ProgrammeEnd, &br.ProgrammeEnd}, {"valid_until", req.ValidUntil, &br.ValidUntil}} {
		if d.value == "" {
			continue
		}
		if *d.day, err = parseDay(d.field, d.value); err != nil {
			return err
		}
	}
	res, err := s.Issuing.Issue(c.Request().Context(), br, nil)
	if err != nil {
		return err
	}
	out, err := s.batchDetail(c, res.Batch)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/v1/batches/%d", res.Batch.ID))
	return respond(c, http.StatusCreated, out)
}

func (s *server) listBatchesHandler(c echo.Context) error {
	dept, err := departmentFilter(c)
	if err != nil {
		return err
	}
	bs, err := s.Issuing.Batches(c.Request().Context(), dept)
	if err != nil {
		return err
	}
	today := s.today()
	out := batchList{Batches: make([]batchJSON, len(bs))}
	for i, b := range bs {
		out.Batches[i] = newBatch(b, today)
	}
	return respond(c, http.StatusOK, out)
}

// visibleBatch reads the batch of the path's {id}; another département's
// is not found.
func (s *server) visibleBatch(c echo.Context) (ledger.Batch, error) {
	id, err := pathID(c)
	if err != nil {
		return ledger.Batch{}, err
	}
	b, _, err := s.Issuing.Batch(c.Request().Context(), id, ownDepartment(principal(c)))
	return b, err
}

func (s *server) getBatch(c echo.Context) error {
	b, err := s.visibleBatch(c)
	if err != nil {
		return err
	}
	out, err := s.batchDetail(c, b)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, out)
}

func (s *server) batchDetail(c echo.Context, b ledger.Batch) (batchDetail, error) {
	counts, err := s.Issuing.ChequierCounts(c.Request().Context(), b.ID)
	if err != nil {
		return batchDetail{}, err
	}
	today := s.today()
	return batchDetail{batchJSON: newBatch(b, today), Timeline: issuing.TimelineOf(&b, today),
		ChequiersByStatus: chequierCountsJSON{Issued: counts[string(ledger.ChequierIssued)], Active: counts[string(ledger.ChequierActive)],
			Void: counts[string(ledger.ChequierVoid)]}}, nil
}

// The files of a batch, as 'passnum print' splits them.

type batchFile struct {
	Part          int    `json:"part"`
	Name          string `json:"name"`
	URL           string `json:"url"`
	FirstChequier string `json:"first_chequier"`
	LastChequier  string `json:"last_chequier"`
	Chequiers     int    `json:"chequiers"`
	Vouchers      int    `json:"vouchers"`
	TotalCents    int64  `json:"total_cents"`
}

type batchFiles struct {
	BatchID          int64       `json:"batch_id"`
	Layout           string      `json:"layout"`
	ChequiersPerFile int         `json:"chequiers_per_file"`
	Files            []batchFile `json:"files"`
}

func queryLayout(c echo.Context) (printing.Layout, error) {
	s, ok, err := query(c, "layout")
	switch {
	case err != nil:
		return "", err
	case !ok:
		return printing.DefaultLayout, nil
	}
	return issuing.Layout(s)
}

// listBatchFiles lists the PDF files of a batch without rendering them:
// their ranges follow from the batch's numbering (issuing.Files).
func (s *server) listBatchFiles(c echo.Context) error {
	layout, err := queryLayout(c)
	if err != nil {
		return err
	}
	b, err := s.visibleBatch(c)
	if err != nil {
		return err
	}
	per := issuing.DefaultPerFile
	files := issuing.Files(b, per)
	out := batchFiles{BatchID: b.ID, Layout: string(layout), ChequiersPerFile: per, Files: make([]batchFile, len(files))}
	for i, f := range files {
		out.Files[i] = batchFile{Part: f.Part, Name: f.Name,
			URL:           fmt.Sprintf("/api/v1/batches/%d/files/%d?layout=%s", b.ID, f.Part, layout),
			FirstChequier: f.FirstChequier, LastChequier: f.LastChequier,
			Chequiers: f.Chequiers, Vouchers: f.Vouchers, TotalCents: f.TotalCents}
	}
	return respond(c, http.StatusOK, out)
}

// getBatchFile renders one part of a batch, the bytes 'passnum print'
// writes to that file. Only that part's chéquiers are read and signed and
// one part's PDF is held (fpdf builds a file in memory): memory does not
// grow with the batch.
func (s *server) getBatchFile(c echo.Context) error {
	layout, err := queryLayout(c)
	if err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	part, err := pathInt(c, "part")
	if err != nil {
		return err
	}
	p, err := s.Issuing.PrintBatchPart(c.Request().Context(), id, int(min(part, 1<<30)), issuing.DefaultPerFile, ownDepartment(principal(c)))
	if err != nil {
		return err
	}
	opt := printing.Options{Layout: layout, VenuesInfo: s.venuesInfo, Part: p.Part, Parts: p.Parts}
	w := download(c, "application/pdf", printing.FileName(id, p.Part))
	return printing.Render(w, p.Summary, p.Chequiers, opt)
}

// download is the body of a file answer: its headers are set on the first
// write, so that an error before any byte is still a JSON error.
func download(c echo.Context, contentType, filename string) io.Writer {
	return &lazyWriter{c: c, contentType: contentType, filename: filename}
}

type lazyWriter struct {
	c                     echo.Context
	contentType, filename string
}

func (w *lazyWriter) Write(p []byte) (int, error) {
	res := w.c.Response()
	if !res.Committed {
		h := res.Header()
		h.Set(echo.HeaderContentType, w.contentType)
		h.Set(echo.HeaderContentDisposition, "attachment; filename="+strconv.Quote(w.filename))
		res.WriteHeader(http.StatusOK)
	}
	return res.Write(p)
}

// Programme timeline warnings.

type warningList struct {
	AsOf     voucher.Day       `json:"as_of"`
	Warnings []issuing.Warning `json:"warnings"`
	// Venues locked out of manual entry lately (redemption.LockoutNoticeDays).
	ManualEntryLocks []redemption.Lockout `json:"manual_entry_locks"`
	// Change requests to shared venues that the département has to decide.
	VenueChangeRequests []changeRequestJSON `json:"venue_change_requests"`
	// Changes others made lately to venues the département shares
	// (programme.NoticeDays).
	VenueNotices []programme.Notice `json:"venue_notices"`
}

// listWarnings lists the batches that are ending, have stopped handing
// out chéquiers or are in their grace period, as of today, and the venues
// locked out of manual entry lately, and for shared venues: the change
// requests awaiting the département and the changes others made.
func (s *server) listWarnings(c echo.Context) error {
	dept, err := departmentFilter(c)
	if err != nil {
		return err
	}
	today := s.today()
	ws, err := s.Issuing.Warnings(c.Request().Context(), dept, today)
	if err != nil {
		return err
	}
	locks, err := s.Redemption.Lockouts(c.Request().Context(), dept)
	if err != nil {
		return err
	}
	awaiting, err := s.Programme.AwaitingApproval(c.Request().Context(), dept)
	if err != nil {
		return err
	}
	notices, err := s.Programme.Notices(c.Request().Context(), dept)
	if err != nil {
		return err
	}
	out := warningList{AsOf: today, Warnings: ws, ManualEntryLocks: locks, VenueChangeRequests: []changeRequestJSON{}, VenueNotices: notices}
	for _, r := range awaiting {
		out.VenueChangeRequests = append(out.VenueChangeRequests, newChangeRequest(r))
	}
	return respond(c, http.StatusOK, out)
}
