# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# govulncheck reads a pinned copy of Go's vulnerability database, indexed from
# the OSV files of the golang.org/x/vulndb module, which the Go module proxy
# serves like any module (vuln.go.dev is not needed). For newer reports, set
# VULNDB_VERSION to what `go list -m golang.org/x/vulndb@latest` prints.
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/todoapi/vulndb-$(VULNDB_VERSION)
LISTEN_ADDR ?= 127.0.0.1:8080
export LISTEN_ADDR

# A development secret, new each run, unless you set one.
ifndef JWT_SECRET
JWT_SECRET := $(shell head -c 32 /dev/urandom | base64)
endif
export JWT_SECRET

NPM_TESTDATA := e2e/testdata/betterauth e2e/testdata/frontend

.PHONY: run test fuzz lint build deps testdeps serve bench

## run: serve the API; with DATABASE_URL unset, on a throwaway local Postgres
run: deps build
ifdef DATABASE_URL
	@$(MAKE) --no-print-directory serve
else
	@$(GO) run ./cmd/devpg -- $(MAKE) --no-print-directory serve
endif

## test: the whole suite, go test -race, against a real Postgres; then the
## API suite and the end-to-end tests again through PgBouncer in transaction
## mode (as on Neon)
test: deps testdeps
ifdef TEST_DATABASE_URL
	$(GO) test -race -count=1 ./...
else
	@$(GO) run ./cmd/devpg -pgbouncer -- sh -c '\
		TEST_PGBOUNCER_ADDR= $(GO) test -race -count=1 ./... && \
		echo "--- the API suite and the end-to-end tests again, through PgBouncer in transaction mode:" && \
		$(GO) test -race -count=1 ./internal/api/ ./e2e/'
endif
	@$(MAKE) --no-print-directory fuzz

## fuzz: each fuzz target of what parses untrusted input, briefly (FUZZTIME
## each, default 5s); new failing inputs land in the package's testdata/fuzz
FUZZTIME ?= 5s
FUZZ_TARGETS := ./internal/api:FuzzTodoBodies ./internal/todo:FuzzDecodeCursor \
	./internal/auth:FuzzVerify ./internal/auth:FuzzVerifyClaims
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzzing $${t#*:} for $(FUZZTIME)"; \
		out=$$($(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}" 2>&1) || \
		{ echo "$$out"; exit 1; }; \
	done

## lint: go vet, staticcheck and govulncheck; govulncheck judges the standard
## library of go.mod's toolchain line, the Go that builds the image (GOTOOLCHAIN=auto
## fetches it from the module proxy when this machine's Go is older), so the
## Dockerfile must use that Go
lint: $(VULNDB)/index/db.json
	@go=$$(sed -n 's/^toolchain go//p' go.mod); go=$${go:-$$(sed -n 's/^go //p' go.mod)}; \
		grep -q "^FROM golang:$$go-" Dockerfile || { echo "lint: the Dockerfile's Go is not go.mod's $$go"; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	GOTOOLCHAIN=auto $(GO) run $(GOVULNCHECK) -db file://$(VULNDB) ./...

# The database for govulncheck, built once per VULNDB_VERSION.
$(VULNDB)/index/db.json:
	@echo "indexing golang.org/x/vulndb@$(VULNDB_VERSION) for govulncheck (once)"
	@$(GO) mod download golang.org/x/vulndb@$(VULNDB_VERSION) && rm -rf $(VULNDB) $(VULNDB).tmp && \
		$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -out $(VULNDB).tmp \
		-vulns $$($(GO) env GOMODCACHE)/golang.org/x/vulndb@$(VULNDB_VERSION)/data/osv && \
		mv $(VULNDB).tmp $(VULNDB)

## build: bin/todoapi as the Dockerfile builds it (static, no cgo, no symbol
## table), so that `make run` and `make bench` run what ships
build:
	@CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o bin/todoapi ./cmd/todoapi

## deps: install the PostgreSQL server, pgTAP, pg_prove and PgBouncer when missing (Debian)
deps:
	@{ command -v initdb || ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1 && command -v pg_prove >/dev/null && \
		ls /usr/share/postgresql/*/extension/pgtap.control >/dev/null 2>&1 && [ -x /usr/sbin/pgbouncer ] || \
		{ echo "installing postgresql, pgtap and pgbouncer (apt-get)"; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql pgtap pgbouncer >/dev/null; }

## testdeps: what the end-to-end tests drive: a real Better Auth server and
## the frontend toolchain (npm), and headless Chromium (Debian)
testdeps:
	@for d in $(NPM_TESTDATA); do \
		[ $$d/node_modules/.package-lock.json -nt $$d/package-lock.json ] || \
		{ echo "installing $$d (npm ci)"; npm ci --prefix $$d --no-audit --no-fund --loglevel=error >/dev/null || exit 1; }; \
	done
	@command -v chromium >/dev/null || { echo "installing chromium (apt-get)"; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

serve:
	@token=$$(bin/todoapi token --sub alice --ttl 24h) && other=$$(bin/todoapi token --sub bob --ttl 24h) && \
	echo && echo "Docs UI:      http://$(LISTEN_ADDR)/docs   (Authorize -> paste a token)" && \
	echo "Token alice:  $$token" && echo "Token bob:    $$other" && \
	echo "Try:          curl -H \"Authorization: Bearer $$token\" -d '{\"title\":\"x\"}' http://$(LISTEN_ADDR)/v1/todos" && \
	echo "More tokens:  JWT_SECRET=$$JWT_SECRET bin/todoapi token --sub <user-id>" && echo
	@exec bin/todoapi serve

## bench: the API against the same transactions straight to Postgres (pgbench, pgx), then 1,000 users open-loop (about 10 minutes)
bench: deps build
	@$(GO) run ./cmd/devpg -- $(GO) run ./cmd/todobench $(BENCH_FLAGS)
