# aiconfig — see README.md. `make run` and `make test` work on a fresh clone.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GOBIN := $(shell go env GOPATH)/bin
export PATH := $(PATH):$(GOBIN)

# Pinned tools, installed on demand from the Go module proxy.
BUF_VERSION          := v1.75.0
PROTOC_GEN_GO        := v1.36.12
PROTOC_GEN_GO_GRPC   := v1.6.0
GRPCURL_VERSION      := v1.9.4
HEALTH_PROBE_VERSION := v0.4.62

.PHONY: run test lint generate build tools grpcurl e2e bench clean proto-baseline

# What `aiconfigd version` and aiconfig_build_info report: from git when
# this is a checkout (the nearest tag, else the commit), else "devel".
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X github.com/igny8/aiconfig/internal/buildinfo.version=$(VERSION) -X github.com/igny8/aiconfig/internal/buildinfo.commit=$(COMMIT)

build:
	go build -ldflags "$(LDFLAGS)" -o bin/aiconfigd ./cmd/aiconfigd

## run: find or start PostgreSQL, migrate, print a dev admin token, serve on 127.0.0.1:50051
run: build
	scripts/run.sh

## test: the whole suite, race detector on, against real PostgreSQL (found or started)
test:
	url=$$(scripts/pg.sh) && AICONFIG_TEST_DATABASE_URL="$$url" go test -race -count=1 ./...

## bench: hot-path throughput and latency against the gRPC floor (see README, Performance).
## With two or more CPUs the servers run on CPU 0 and the load driver on the others,
## so the driver's work does not land on the measured server's core.
bench: build
	go build -o bin/aiconfig-bench ./cmd/aiconfig-bench
	url=$$(scripts/pg.sh) && n=$$(nproc) && \
	if [ "$$n" -ge 2 ] && command -v taskset >/dev/null; then \
		taskset -c 1-$$((n-1)) bin/aiconfig-bench -server-url "$$url" -server-cpus 0 $(BENCH_FLAGS); \
	else bin/aiconfig-bench -server-url "$$url" $(BENCH_FLAGS); fi

## e2e: the README's grpcurl session against a real server
e2e: build grpcurl
	scripts/e2e.sh

## lint: gofmt, go vet, buf lint, no breaking change against the released API, generated code up to date
lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	go vet ./...
	buf lint
	buf breaking --against proto-baseline
	$(MAKE) generate
	@git diff --exit-code --stat -- gen/ || { echo "gen/ is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- gen/)" || { echo "gen/ has untracked files: run make generate and commit"; exit 1; }

generate: tools
	buf generate

## proto-baseline: at a release, make the current API the one buf breaking protects
proto-baseline:
	rm -rf proto-baseline/aiconfig
	cp -r proto/aiconfig proto-baseline/

tools:
	@command -v buf >/dev/null || go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	@command -v protoc-gen-go >/dev/null || go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO)
	@command -v protoc-gen-go-grpc >/dev/null || go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC)

grpcurl:
	@command -v grpcurl >/dev/null || go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)
	@command -v grpc-health-probe >/dev/null || go install github.com/grpc-ecosystem/grpc-health-probe@$(HEALTH_PROBE_VERSION)

clean:
	rm -rf bin
