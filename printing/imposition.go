package printing

// A file's plan lists its pages in drawing order and what each position on
// a page holds. The QR codes are submitted to the encoder in the same
// order as the drawer consumes them, by walking the same plan, so the two
// cannot disagree.
//
// Booklet imposition (cut and stack). A file's A6 pages are, in reading
// order, chéquier after chéquier: its cover, its second cover page (what
// to know, whom to call, the activation block), then its vouchers 1..M; the
// sequence is padded with blank pages to a multiple of 4. With T pages and
// S = T/4 sheets, sheet s (0-based) holds page s in slot A (top left),
// S+s in slot B (top right), 2S+s in C (bottom left) and 3S+s in D (bottom
// right). Printed one-sided and kept in order, the stack is cut in four;
// pile A is put on pile B, the two on pile C, the three on pile D: the
// pages are then in reading order from the top, and each chéquier is
// lifted off the top (it starts with its cover) and stapled on the left.
// This is the usual way print shops number tickets: one cut of the whole
// stack, no collation by hand. A saddle-stitched (folded) booklet would
// need two-sided printing and put two vouchers on one leaf, which a
// beneficiary could not hand over separately.

type itemKind uint8

const (
	itemNone    itemKind = iota
	itemCover            // a chéquier's cover: what it is and how to use it
	itemInside           // its second cover page: the rules, a lost chéquier, the activation block
	itemVoucher          // a voucher
	itemBlank            // padding at the end of a booklet file
)

type item struct {
	kind itemKind
	ch   int // index of the chéquier in the file
	v    int // index of the voucher in the chéquier
	page int // booklet: 1-based A6 page number in the file's sequence
}

type pageKind uint8

const (
	pageSummary  pageKind = iota
	pageCover             // A4Sheets: a full A4 cover page (itemCover or itemInside)
	pageVouchers          // A4Sheets: up to gridCells vouchers
	pageSheet             // Booklet: four A6 pages
)

type pagePlan struct {
	kind  pageKind
	items []item // by position: grid cell, or booklet slot 0..3 (A..D)
	sheet int    // Booklet: 1-based sheet number
}

type filePlan struct {
	opt       Options
	chequiers []Chequier
	pages     []pagePlan
	vouchers  int
	covers    int // chéquiers printed whole, with their two cover pages
	sheets    int // Booklet: sheets in the imposed part
	a6Pages   int // Booklet: A6 pages including blanks
	err       error
}

func buildPlan(opt Options, chequiers []Chequier) *filePlan {
	fp := &filePlan{opt: opt, chequiers: chequiers}
	for _, c := range chequiers {
		fp.vouchers += len(c.Vouchers)
		if !c.partial() {
			fp.covers++
		}
	}
	fp.pages = append(fp.pages, pagePlan{kind: pageSummary})
	switch opt.Layout {
	case A4Sheets:
		for ci, c := range chequiers {
			if !c.partial() {
				fp.pages = append(fp.pages, pagePlan{kind: pageCover, items: []item{{kind: itemCover, ch: ci}}},
					pagePlan{kind: pageCover, items: []item{{kind: itemInside, ch: ci}}})
			}
			for start := 0; start < len(c.Vouchers); start += gridCells {
				p := pagePlan{kind: pageVouchers}
				for v := start; v < len(c.Vouchers) && v < start+gridCells; v++ {
					p.items = append(p.items, item{kind: itemVoucher, ch: ci, v: v})
				}
				fp.pages = append(fp.pages, p)
			}
		}
	case Booklet:
		seq := make([]item, 0, 2*fp.covers+fp.vouchers+3)
		for ci, c := range chequiers {
			if !c.partial() {
				seq = append(seq, item{kind: itemCover, ch: ci}, item{kind: itemInside, ch: ci})
			}
			for v := range c.Vouchers {
				seq = append(seq, item{kind: itemVoucher, ch: ci, v: v})
			}
		}
		for len(seq)%4 != 0 {
			seq = append(seq, item{kind: itemBlank})
		}
		for i := range seq {
			seq[i].page = i + 1
		}
		s := len(seq) / 4
		fp.sheets, fp.a6Pages = s, len(seq)
		for sh := 0; sh < s; sh++ {
			fp.pages = append(fp.pages, pagePlan{kind: pageSheet, sheet: sh + 1,
				items: []item{seq[sh], seq[s+sh], seq[2*s+sh], seq[3*s+sh]}})
		}
	}
	return fp
}

// qrCode returns the code an item shows as a QR symbol, and its version;
// "" when it shows none.
func (fp *filePlan) qrCode(it item) (string, int) {
	switch it.kind {
	case itemVoucher:
		return fp.chequiers[it.ch].Vouchers[it.v].Code, voucherQRVersion
	case itemInside:
		if c := &fp.chequiers[it.ch]; c.RequiresActivation {
			return c.ActivationCode, activationQRVersion
		}
	}
	return "", 0
}

// submitAll queues every QR code of the plan in drawing order; false when
// the pool was stopped.
func (fp *filePlan) submitAll(p *qrPool) bool {
	for _, pg := range fp.pages {
		for _, it := range pg.items {
			if code, version := fp.qrCode(it); code != "" {
				if !p.submit(code, version) {
					return false
				}
			}
		}
	}
	return true
}
