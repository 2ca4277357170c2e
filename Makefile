# The quick start is two commands: `make run` and `make test`.
# PostgreSQL tests run when PASSNUM_TEST_DATABASE_URL is set (.ci/run sets it).

GO ?= go
PKGS := ./...
# Packages whose tests exercise concurrency run under the race detector.
RACE_PKGS := ./ledger/... ./issuing/... ./audit/... ./redemption/... ./api/... ./printing/...

.PHONY: run test test-tools bench lint build fuzz clean

run:
	$(GO) run ./cmd/passnum demo --serve

test: lint test-tools
	$(GO) test -count=1 -timeout 15m $(PKGS)
	$(GO) test -count=1 -race -timeout 15m $(RACE_PKGS)

# The printing tests rasterize PDFs and read their text back with poppler;
# the sepa tests validate payment files against the bank's schema with
# xmllint. Install what is missing from Debian (needs root, as on CI).
test-tools:
	@missing=; \
	command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	command -v xmllint >/dev/null || missing="$$missing libxml2-utils"; \
	[ -z "$$missing" ] || { \
		echo "installing$$missing for the printing (pdftoppm, pdftotext) and sepa (xmllint) tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }

# Benchmarks run against PostgreSQL (the local server unless
# PASSNUM_TEST_DATABASE_URL says otherwise); docs/BENCHMARKS.md records their
# figures. Micro-benchmarks repeat; the programme-sized ones run once.
bench: export PASSNUM_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./voucher/
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./issuing/ ./cmd/passnum/

lint:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

build:
	$(GO) build -o bin/passnum ./cmd/passnum

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./voucher/

clean:
	rm -rf bin passnum-data
