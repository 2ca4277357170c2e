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
const maxAPIChequiers = 2_000

type batchRequest struct {
	Department          string `json:"department"`
	Chequiers           int    `json:"chequiers"`
	VouchersPerChequier int    `json:"vouchers_per_chequier"`
	FaceValueCents      int64  `json:"face_value_cents"`
	ProgrammeEnd        string `json:"programme_end"`
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
// exists when it answers, or nothing does.
func (s *server) createBatch(c echo.Context) error {
	var req batchRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	br, err := s.batchRequest(req)
	if err != nil {
		return err
	}
	if err := requireDepartment(p, br.Department); err != nil {
		return err
	}
	br.Actor = p.Actor()
	res, err := s.Issuing.Issue(c.Request().Context(), br, nil)
	if err != nil {
		return inFrench(err, func(code string) string {
			switch code {
			case passnum.ENotFound:
				return fmt.Sprintf("Le département %s n'existe pas dans le programme : demandez à l'exploitation de l'ajouter.", br.Department)
			case passnum.EConflict:
				return "Le lot n'a pas pu être créé : aucune clé de signature n'est active, ou la numérotation des chèques est épuisée. Prévenez l'exploitation ; rien n'a été créé."
			}
			return ""
		})
	}
	out, err := s.batchDetail(c, res.Batch)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/v1/batches/%d", res.Batch.ID))
	return respond(c, http.StatusCreated, out)
}

// batchRequest checks an order in French, with the rules of
// issuing.BatchRequest.Validate (which Issue applies again) and the API's
// own cap, and fills in the defaults.
func (s *server) batchRequest(req batchRequest) (issuing.BatchRequest, error) {
	dept, err := departmentCode("department", req.Department)
	if err != nil {
		return issuing.BatchRequest{}, err
	}
	br := issuing.BatchRequest{Department: dept, Chequiers: req.Chequiers, VouchersPerChequier: req.VouchersPerChequier,
		FaceValueCents: req.FaceValueCents, RequiresActivation: req.RequiresActivation == nil || *req.RequiresActivation}
	today := s.today()
	bad := func(format string, args ...any) (issuing.BatchRequest, error) {
		return issuing.BatchRequest{}, passnum.Invalid(format, args...)
	}
	switch {
	case req.Chequiers < 1 || req.Chequiers > maxAPIChequiers:
		return bad("Une commande passée par l'API compte de 1 à %d chéquiers, pas %d : au-delà, la création ne tiendrait pas dans le délai d'une requête. Découpez la commande en plusieurs lots, ou créez-la avec la commande « passnum issue ».", maxAPIChequiers, req.Chequiers)
	case req.VouchersPerChequier < 1 || req.VouchersPerChequier > issuing.MaxVouchers:
		return bad("Un chéquier compte de 1 à %d chèques, pas %d.", issuing.MaxVouchers, req.VouchersPerChequier)
	case req.FaceValueCents < 1 || req.FaceValueCents > issuing.MaxFaceValueCents:
		return bad("La valeur d'un chèque (« face_value_cents », en centimes) va de 1 à %d, pas %d.", issuing.MaxFaceValueCents, req.FaceValueCents)
	case req.ProgrammeEnd == "":
		return bad("Donnez « programme_end », le dernier jour du programme (AAAA-MM-JJ).")
	}
	if br.ProgrammeEnd, err = parseDay("programme_end", req.ProgrammeEnd); err != nil {
		return issuing.BatchRequest{}, err
	}
	br.ValidUntil = issuing.DefaultGrace(br.ProgrammeEnd)
	if req.ValidUntil != "" {
		if br.ValidUntil, err = parseDay("valid_until", req.ValidUntil); err != nil {
			return issuing.BatchRequest{}, err
		}
	}
	stop := br.ProgrammeEnd.AddDays(-issuing.DistributionStopDays)
	switch {
	case br.ValidUntil < br.ProgrammeEnd:
		return bad("Les chèques seraient valables jusqu'au %s, avant la fin du programme (%s) : « valid_until » doit être le %s ou plus tard.",
			br.ValidUntil.French(), br.ProgrammeEnd.French(), br.ProgrammeEnd.French())
	case stop <= today:
		return bad("Le programme finirait le %s : la remise des chéquiers, qui s'arrête %d jours avant la fin, serait déjà close. Choisissez une fin après le %s.",
			br.ProgrammeEnd.French(), issuing.DistributionStopDays, today.AddDays(issuing.DistributionStopDays).French())
	case int(br.ValidUntil)-int(today) > 10*366: // issuing's maxValidityYears
		return bad("Les chèques seraient valables jusqu'au %s, dans plus de 10 ans : vérifiez l'année.", br.ValidUntil.French())
	}
	return br, nil
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
func (s *server) visibleBatch(c echo.Context) (ledger.Batch, ledger.Department, error) {
	id, err := pathID(c)
	if err != nil {
		return ledger.Batch{}, ledger.Department{}, err
	}
	b, d, err := s.Issuing.Batch(c.Request().Context(), id)
	if passnum.ErrorCode(err) == passnum.ENotFound || err == nil && !mayReach(principal(c), b.DepartmentCode) {
		return b, d, newProblem(passnum.KindNotFound, passnum.ENotFound, "Le lot %d n'existe pas ou n'est pas accessible avec cette clé.", id)
	}
	return b, d, err
}

func (s *server) getBatch(c echo.Context) error {
	b, _, err := s.visibleBatch(c)
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
		return printing.A4Sheets, nil
	case s == string(printing.A4Sheets) || s == string(printing.Booklet):
		return printing.Layout(s), nil
	}
	return "", passnum.Invalid("Le paramètre « layout » vaut a4 (dix chèques par feuille A4) ou booklet (un chèque par page A6).")
}

// listBatchFiles lists the PDF files of a batch without rendering them:
// their ranges follow from the batch's numbering.
func (s *server) listBatchFiles(c echo.Context) error {
	layout, err := queryLayout(c)
	if err != nil {
		return err
	}
	b, _, err := s.visibleBatch(c)
	if err != nil {
		return err
	}
	per := issuing.DefaultPerFile
	parts := issuing.Parts(b.ChequierCount, per)
	out := batchFiles{BatchID: b.ID, Layout: string(layout), ChequiersPerFile: per, Files: make([]batchFile, parts)}
	for i := range parts {
		first := b.FirstChequierSeq + int64(i*per)
		n := min(per, b.ChequierCount-i*per)
		out.Files[i] = batchFile{Part: i + 1, Name: printing.FileName(b.ID, i+1),
			URL:           fmt.Sprintf("/api/v1/batches/%d/files/%d?layout=%s", b.ID, i+1, layout),
			FirstChequier: voucher.FormatChequierNumber(b.DepartmentCode, uint16(b.Year), uint32(first)),
			LastChequier:  voucher.FormatChequierNumber(b.DepartmentCode, uint16(b.Year), uint32(first+int64(n)-1)),
			Chequiers:     n, Vouchers: n * b.VouchersPerChequier, TotalCents: int64(n*b.VouchersPerChequier) * b.FaceValueCents}
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
	b, _, err := s.visibleBatch(c)
	if err != nil {
		return err
	}
	part, err := pathInt(c, "part")
	if err != nil {
		return err
	}
	per := issuing.DefaultPerFile
	parts := issuing.Parts(b.ChequierCount, per)
	if part > int64(parts) {
		return newProblem(passnum.KindNotFound, passnum.ENotFound, "Le lot %d tient en %d fichier(s) : il n'a pas de partie %d.", b.ID, parts, part)
	}
	summary, chequiers, err := s.Issuing.PrintBatchPart(c.Request().Context(), b.ID, int(part), per)
	if err != nil {
		return inFrench(err, func(code string) string {
			if code == passnum.EConflict {
				return fmt.Sprintf("La clé qui a signé le lot %d est révoquée : ses chèques ne sont plus valables et ne doivent pas être imprimés.", b.ID)
			}
			return ""
		})
	}
	opt := printing.Options{Layout: layout, VenuesInfo: s.venuesInfo, Part: int(part), Parts: parts}
	w := download(c, "application/pdf", printing.FileName(b.ID, int(part)))
	return printing.Render(w, summary, chequiers, opt)
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
