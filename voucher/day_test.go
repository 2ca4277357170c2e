package voucher

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestDayOf(t *testing.T) {
	cases := []struct {
		y       int
		m       time.Month
		d       int
		want    Day
		wantErr bool
	}{
		{1970, 1, 1, 0, false},
		{1970, 1, 2, 1, false},
		{2026, 1, 1, 20454, false},
		{2028, 2, 29, 21243, false},
		{2149, 6, 6, math.MaxUint16, false},
		{2149, 6, 7, 0, true},
		{1969, 12, 31, 0, true},
		{2027, 2, 29, 0, true},
		{2027, 4, 31, 0, true},
		{2027, 13, 1, 0, true},
		{2027, 0, 1, 0, true},
		{2027, 1, 0, 0, true},
		{-1, 1, 1, 0, true},
	}
	for _, c := range cases {
		got, err := DayOf(c.y, c.m, c.d)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("DayOf(%d, %d, %d) = %d, %v; want %d, error %v", c.y, c.m, c.d, got, err, c.want, c.wantErr)
		}
	}
}

func TestParseDay(t *testing.T) {
	good := map[string]Day{"1970-01-01": 0, "2026-01-01": 20454, "2149-06-06": 65535}
	for s, want := range good {
		if got, err := ParseDay(s); err != nil || got != want {
			t.Errorf("ParseDay(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "2027-1-01", "2027-01-1", "27-12-31", "2027-12-31 ", " 2027-12-31",
		"2027-12-31T00:00:00Z", "2027/12/31", "31/12/2027", "2027-02-29", "2027-12-32", "1969-12-31",
		"2149-06-07", "+027-12-31", "２０２７-12-31", "20271231"} {
		if d, err := ParseDay(s); err == nil {
			t.Errorf("ParseDay(%q) = %s, want an error", s, d)
		}
	}
}

// TestDayEveryDay walks the whole range of Day: string and date round trips,
// and Paris days that tile time without gaps or overlaps.
func TestDayEveryDay(t *testing.T) {
	for i := 0; i <= math.MaxUint16; i++ {
		d := Day(i)
		s := d.String()
		if p, err := ParseDay(s); err != nil || p != d {
			t.Fatalf("ParseDay(%q) = %d, %v; want %d", s, p, err, d)
		}
		if p, err := DayOf(d.Date()); err != nil || p != d {
			t.Fatalf("DayOf(%d.Date()) = %d, %v", d, p, err)
		}
		start, end := d.Start(), d.End()
		if h := end.Sub(start); h != 23*time.Hour && h != 24*time.Hour && h != 25*time.Hour {
			t.Fatalf("%s lasts %v", s, h)
		}
		if y, m, dd := start.Date(); start.Location() != paris || y*10000+int(m)*100+dd != dateNumber(d) ||
			start.Hour() != 0 || start.Minute() != 0 {
			t.Fatalf("%s starts at %v", s, start)
		}
		if i < math.MaxUint16 && !end.Equal((d + 1).Start()) {
			t.Fatalf("%s ends at %v but %s starts at %v", s, end, d+1, (d + 1).Start())
		}
		if Today(start) != d || Today(end.Add(-time.Nanosecond)) != d {
			t.Fatalf("Today disagrees with the bounds of %s", s)
		}
	}
}

func dateNumber(d Day) int {
	y, m, dd := d.Date()
	return y*10000 + int(m)*100 + dd
}

func TestDayBoundsInParis(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		day, start, end string
		hours           int
	}{
		{"2027-12-31", "2027-12-30T23:00:00Z", "2027-12-31T23:00:00Z", 24}, // winter, UTC+1
		{"2026-07-14", "2026-07-13T22:00:00Z", "2026-07-14T22:00:00Z", 24}, // summer, UTC+2
		{"2026-03-29", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 23}, // clocks go forward at 02:00
		{"2026-10-25", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25}, // clocks go back at 03:00
		{"2027-03-28", "2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z", 23},
	}
	for _, c := range cases {
		d := mustDay(t, c.day)
		if got := d.Start(); !got.Equal(utc(c.start)) {
			t.Errorf("%s.Start() = %v, want %s", c.day, got.UTC(), c.start)
		}
		if got := d.End(); !got.Equal(utc(c.end)) {
			t.Errorf("%s.End() = %v, want %s", c.day, got.UTC(), c.end)
		}
		if h := d.End().Sub(d.Start()); h != time.Duration(c.hours)*time.Hour {
			t.Errorf("%s lasts %v, want %dh", c.day, h, c.hours)
		}
	}
	// The documented rule: valid until 2027-12-31 means before 2028-01-01T00:00 in Paris.
	end := mustDay(t, "2027-12-31").End()
	if want := time.Date(2028, 1, 1, 0, 0, 0, 0, paris); !end.Equal(want) || end.Location().String() != "Europe/Paris" {
		t.Errorf("End() = %v, want %v", end, want)
	}
}

func TestToday(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		now  time.Time
		want string
	}{
		{time.Date(2027, 12, 31, 22, 59, 59, 999999999, time.UTC), "2027-12-31"},
		{time.Date(2027, 12, 31, 23, 0, 0, 0, time.UTC), "2028-01-01"},
		{time.Date(2026, 7, 14, 21, 59, 59, 0, time.UTC), "2026-07-14"},
		{time.Date(2026, 7, 14, 22, 0, 0, 0, time.UTC), "2026-07-15"},
		{time.Date(2026, 7, 14, 18, 0, 0, 0, ny), "2026-07-15"}, // 22:00Z, midnight in Paris
		{time.Date(2026, 3, 29, 1, 59, 0, 0, time.UTC), "2026-03-29"},
		{time.Date(2026, 3, 29, 21, 59, 59, 0, time.UTC), "2026-03-29"},
		{time.Date(2026, 3, 29, 22, 0, 0, 0, time.UTC), "2026-03-30"},
		{time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), "2026-10-25"}, // 02:30 CEST, before the repeated hour
		{time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), "2026-10-25"}, // 02:30 CET, the repeated hour
		{time.Date(2026, 10, 25, 22, 59, 59, 0, time.UTC), "2026-10-25"},
		{time.Date(2026, 10, 25, 23, 0, 0, 0, time.UTC), "2026-10-26"},
		{time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), "1970-01-01"}, // already the 1st in Paris
		{time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), "1970-01-01"},    // clamped
		{time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), "2149-06-06"},    // clamped
	}
	for _, c := range cases {
		if got := Today(c.now).String(); got != c.want {
			t.Errorf("Today(%v) = %s, want %s", c.now, got, c.want)
		}
	}
}

func TestDayJSON(t *testing.T) {
	type doc struct {
		Until Day `json:"until"`
	}
	b, err := json.Marshal(doc{Until: mustDay(t, "2027-12-31")})
	if err != nil || string(b) != `{"until":"2027-12-31"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil || d.Until.String() != "2027-12-31" {
		t.Errorf("Unmarshal = %v, %v", d, err)
	}
	if err := json.Unmarshal([]byte(`{"until":"2027-02-30"}`), &d); err == nil {
		t.Error("2027-02-30 accepted")
	}
	if err := json.Unmarshal([]byte(`{"until":21549}`), &d); err == nil {
		t.Error("a bare number accepted")
	}
}

func TestDayArithmetic(t *testing.T) {
	day := func(s string) Day {
		d, err := ParseDay(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, c := range []struct {
		got  Day
		want string
	}{
		{day("2027-01-31").AddMonths(1), "2027-02-28"},
		{day("2028-01-31").AddMonths(1), "2028-02-29"},
		{day("2026-12-15").AddMonths(1), "2027-01-15"},
		{day("2027-03-31").AddMonths(-1), "2027-02-28"},
		{day("2026-12-31").AddDays(1), "2027-01-01"},
		{day("2027-03-01").AddDays(-15), "2027-02-14"},
		{day("2026-10-17").FirstOfMonth(), "2026-10-01"},
		{day("2026-10-01").FirstOfMonth(), "2026-10-01"},
		{Day(3).AddDays(-10), "1970-01-01"},
	} {
		if c.got.String() != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
}
