package printing

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var updatePreviews = flag.Bool("update-previews", false, "rewrite the preview images in docs/")

// TestPreviews writes PNG previews of one page of each layout into docs/,
// for people to look at; run with -update-previews.
func TestPreviews(t *testing.T) {
	if !*updatePreviews {
		t.Skip("run with -update-previews to rewrite the preview images in docs/")
	}
	needTool(t, "pdftoppm")
	spec := batchSpec{id: 12, chequiers: 2, perChequier: 10, valueCents: 1000, activation: true, firstSeq: 42, firstSerial: 421}
	b := testBatch(t, spec)
	b.ContactPhone = "01 39 07 78 78"
	cs := chequiersOf(t, b, spec)
	for _, p := range []struct {
		layout Layout
		page   int
		name   string
	}{
		{A4Sheets, 2, "printing-cover.png"},
		{A4Sheets, 3, "printing-cover-inside.png"},
		{A4Sheets, 4, "printing-a4.png"},
		{Booklet, 2, "printing-booklet.png"},
		{Booklet, 3, "printing-booklet-inside.png"},
	} {
		pdf := writeTemp(t, renderBytes(t, defaultEngine, b, cs, testOptions(p.layout)))
		out := filepath.Join(t.TempDir(), "p")
		cmd := exec.Command("pdftoppm", "-r", "100", "-png", "-singlefile", "-f", itoa(p.page), "-l", itoa(p.page), pdf, out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, msg)
		}
		data, err := os.ReadFile(out + ".png")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", p.name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
