# The quick start is two commands: `make run` and `make test`.
# PostgreSQL tests run when PASSNUM_TEST_DATABASE_URL is set (.ci/run sets it).

GO ?= go
PKGS := ./...
# Packages whose tests exercise concurrency run under the race detector.
RACE_PKGS := ./ledger/... ./issuing/... ./audit/... ./redemption/... ./api/... ./printing/... ./mail/... ./accounts/... ./programme/... ./settlement/... ./sso/... ./apikeys/...

.PHONY: run test test-tools bench lint build fuzz clean bin/passnum

# The demo runs from bin/passnum, built once, so that the commands it
# prints to try next (bin/passnum …) start at once instead of compiling
# again as `go run` would. `make run LISTEN=:8443 TLS=1`: on every
# interface, over HTTPS with a self-signed certificate, for a phone on the
# same network.
run: bin/passnum
	bin/passnum demo --serve $(if $(LISTEN),--listen=$(LISTEN)) $(if $(TLS),--tls)

test: lint test-tools
	$(GO) test -count=1 -timeout 15m $(PKGS)
	$(GO) test -count=1 -race -timeout 15m $(RACE_PKGS)

# The printing tests rasterize PDFs and read their text back with poppler;
# the sepa tests validate payment files against the bank's schema with
# xmllint; the browser tests of the web pages drive headless Chromium.
# Install what is missing from Debian (needs root, as on CI).
test-tools:
	@missing=; \
	command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	command -v xmllint >/dev/null || missing="$$missing libxml2-utils"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -z "$$missing" ] || { \
		echo "installing$$missing for the printing (pdftoppm, pdftotext), sepa (xmllint) and browser (chromium) tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }

# Benchmarks run against PostgreSQL (the local server unless
# PASSNUM_TEST_DATABASE_URL says otherwise); docs/BENCHMARKS.md records their
# figures. Micro-benchmarks repeat; the programme-sized ones run once.
bench: export PASSNUM_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./voucher/ ./api/static/
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./issuing/ ./cmd/passnum/ ./figures/ ./settlement/ ./audit/

lint:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

build: bin/passnum

# Always handed to go build, which knows better than make whether a source
# or an embedded file changed (it then links nothing); only the first build,
# modules downloaded and every package compiled, is long enough to announce.
bin/passnum:
	@[ -x $@ ] || echo "building bin/passnum (first time: about a minute)…"
	$(GO) build -o $@ ./cmd/passnum

# Each fuzz target for FUZZTIME; their seed corpora run in `make test`.
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./voucher/
	$(GO) test -run '^$$' -fuzz '^FuzzParseNumber$$' -fuzztime $(FUZZTIME) ./voucher/
	$(GO) test -run '^$$' -fuzz '^FuzzCheckSIRET$$' -fuzztime $(FUZZTIME) ./programme/
	$(GO) test -run '^$$' -fuzz '^FuzzCheckIBAN$$' -fuzztime $(FUZZTIME) ./sepa/
	$(GO) test -run '^$$' -fuzz '^FuzzCheckBIC$$' -fuzztime $(FUZZTIME) ./sepa/
	$(GO) test -run '^$$' -fuzz '^FuzzEncode$$' -fuzztime $(FUZZTIME) ./qrcode/
	$(GO) test -run '^$$' -fuzz '^FuzzJSONHandlers$$' -fuzztime $(FUZZTIME) ./api/

clean:
	rm -rf bin passnum-data

# Crash safety (docs/RELIABILITY.md): replicas of `passnum serve` on one
# PostgreSQL database are killed with SIGKILL and PostgreSQL is restarted
# under load, then the ledger is checked against every answer the clients
# got. It restarts the PostgreSQL server (pg_ctlcluster, as root), which
# would cut off the tests that `make test` runs in parallel on that server:
# hence its own targets, run alone. `chaos` is the long form (about 12
# minutes); CI runs `chaos-short` (about 90 s) after `make test`.
.PHONY: chaos chaos-short
chaos chaos-short: export PASSNUM_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
chaos:
	PASSNUM_CHAOS=long $(GO) test -count=1 -run '^TestChaos$$' -timeout 40m -v ./cmd/passnum/

chaos-short:
	PASSNUM_CHAOS=short $(GO) test -count=1 -run '^TestChaos$$' -timeout 10m -v ./cmd/passnum/
