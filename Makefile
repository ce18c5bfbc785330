# aiconfig — see README.md. `make run` and `make test` work on a fresh clone.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GOBIN := $(shell go env GOPATH 2>/dev/null)/bin
export PATH := $(PATH):$(GOBIN)

# Pinned tools, installed on demand from the Go module proxy.
BUF_VERSION          := v1.75.0
PROTOC_GEN_GO        := v1.36.12
PROTOC_GEN_GO_GRPC   := v1.6.0
GRPCURL_VERSION      := v1.9.4
HEALTH_PROBE_VERSION := v0.4.62
GOLANGCI_LINT_VERSION := v2.15.0
# Python stubs: Debian 12's protoc (protobuf-compiler) and grpc_python_plugin
# (protobuf-compiler-grpc); the committed files are this version's output.
PROTOC_VERSION       := 3.21.12
# npm package carrying google/rpc/*.proto, vendored for the Python client.
GOOGLE_PROTO_FILES   := 6.0.1
# Where the generated Python stubs go (committed, like gen/).
PY_GEN := clients/python/aiconfig/v1 clients/python/aiconfig/_rpc

# The Python client's tests need Debian's grpcio and protobuf: not the
# python3 a version manager (pyenv) may put first on PATH.
PYTHON ?= /usr/bin/python3

.PHONY: run test test-python test-deploy lint generate build tools python-tools python-rpc-protos grpcurl golangci-lint e2e bench screenshots clean proto-baseline image image-test bench-import

# What `aiconfigd version` and aiconfig_build_info report: from git when
# this is a checkout (the nearest tag, else the commit), else "devel".
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X github.com/igny8/aiconfig/internal/buildinfo.version=$(VERSION) -X github.com/igny8/aiconfig/internal/buildinfo.commit=$(COMMIT)

build:
	go build -ldflags "$(LDFLAGS)" -o bin/aiconfigd ./cmd/aiconfigd

# The container image (Containerfile): FROM scratch, so nothing is pulled.
# ENGINE=docker builds it with Docker; podman runs here with runc and
# cgroupfs (no systemd in these machines).
ENGINE ?= podman --runtime runc --cgroup-manager cgroupfs
IMAGE  ?= aiconfigd
IMAGE_TAG := $(subst +,-,$(or $(VERSION),devel))
CA_CERTS ?= /etc/ssl/certs/ca-certificates.crt

## image: the aiconfigd image, tagged $(IMAGE):<version> and $(IMAGE):latest
image:
	@test -r $(CA_CERTS) || { echo "make image: no CA bundle at $(CA_CERTS) (apt-get install ca-certificates, or CA_CERTS=...)"; exit 1; }
	rm -rf bin/image && mkdir -p bin/image
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $(LDFLAGS)" -o bin/image/aiconfigd ./cmd/aiconfigd
	cp $(CA_CERTS) bin/image/ca-certificates.crt
	echo 'aiconfig:x:65532:65532:aiconfig:/nonexistent:/sbin/nologin' > bin/image/passwd
	echo 'aiconfig:x:65532:' > bin/image/group
	$(ENGINE) build --build-arg VERSION=$(or $(VERSION),devel) --build-arg COMMIT=$(or $(COMMIT),unknown) \
		-t $(IMAGE):$(IMAGE_TAG) -t $(IMAGE):latest -f Containerfile bin/image
	@$(ENGINE) image inspect --format 'image {{index .RepoTags 0}}: {{.Size}} bytes, user {{.Config.User}}' $(IMAGE):$(IMAGE_TAG)

## image-test: the image against PostgreSQL on this machine: migrate up, token create,
## serve (health SERVING, GetModelConfig), SIGTERM drains and exits 0; under 40 MB, non-root
image-test: grpcurl
	ENGINE="$(ENGINE)" IMAGE=$(IMAGE):$(IMAGE_TAG) VERSION=$(or $(VERSION),devel) scripts/image-test.sh

## run: find or start PostgreSQL, migrate, print a dev admin token, serve on 127.0.0.1:50051
run:
	@scripts/prereqs.sh run
	@$(MAKE) --no-print-directory build
	scripts/run.sh

## test: the whole suite, race detector on, against real PostgreSQL (found or started),
## then the Python client's tests against real aiconfigd processes. First,
## scripts/prereqs.sh checks (or, as root with apt, installs) everything it
## needs, in seconds; at the end, the template databases this run made are
## dropped (AICONFIG_TEST_RUN: see internal/pgtest), passed or failed.
test:
	@scripts/prereqs.sh test
	@$(MAKE) --no-print-directory build
	url=$$(scripts/pg.sh) && run=$$(date +%s)-$$$$ && trap 'scripts/pg.sh --drop-test-run "$$run"' EXIT && \
	AICONFIG_TEST_RUN=$$run AICONFIG_TEST_DATABASE_URL="$$url" go test -race -count=1 ./... && \
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory test-deploy

## test-python: the Python client's tests (python3 -m tests exits 1 on any failure, or if none ran)
test-python:
	@scripts/prereqs.sh test-python
	@$(MAKE) --no-print-directory build
	url=$$(scripts/pg.sh) && cd clients/python && AICONFIG_TEST_DATABASE_URL="$$url" $(PYTHON) -m tests

## test-deploy: deploy/ (its own Go module: compose-go and k8s.io/api stay out of the
## service's dependencies): the compose file and Kubernetes manifests checked against
## the binary's flags, then `make image image-test` (skipped, saying why, where podman cannot run)
## (No -race there: those tests run no goroutines of their own, and the race build of
## k8s.io/api would cost minutes.)
test-deploy:
	cd deploy && go test -count=1 ./...

## bench: hot-path throughput and latency against the gRPC floor and a bare
## grpc-go reference server (see docs/performance.md). With two or more CPUs
## the servers (the reference too) run on CPU 0 and the load driver on the
## others, so the driver's work does not land on the measured server's core.
## Flags go through BENCH_FLAGS, e.g. BENCH_FLAGS='-accounts=1000000 -json bench.json'.
bench:
	@scripts/prereqs.sh bench
	@$(MAKE) --no-print-directory build
	go build -o bin/aiconfig-bench ./cmd/aiconfig-bench
	url=$$(scripts/pg.sh) && n=$$(nproc) && \
	if [ "$$n" -ge 2 ] && command -v taskset >/dev/null; then \
		taskset -c 1-$$((n-1)) bin/aiconfig-bench -server-url "$$url" -server-cpus 0 $(BENCH_FLAGS); \
	else bin/aiconfig-bench -server-url "$$url" $(BENCH_FLAGS); fi

## bench-import: aiconfigd import-django's speed (SPEC 18) on a generated Django
## dump of 100,000 accounts, a tenth with an override and a tenth with a customized
## prompt (IMPORT_ACCOUNTS=N for another size): time, accounts/s, CPU of the
## command and of its database backends, and the command's peak RSS.
IMPORT_ACCOUNTS ?= 100000
bench-import: build
	go build -o bin/aiconfig-bench ./cmd/aiconfig-bench
	url=$$(scripts/pg.sh) && bin/aiconfig-bench -server-url "$$url" -import $(IMPORT_ACCOUNTS)

## screenshots: every console page as a PNG in .data/screenshots/, taken by headless
## Chromium (/usr/bin/chromium or $$AICONFIG_CHROMIUM) from bin/aiconfigd over demo data
screenshots:
	@scripts/prereqs.sh screenshots
	@$(MAKE) --no-print-directory build
	url=$$(scripts/pg.sh) && go run ./cmd/aiconfig-screenshots -server-url "$$url"

## e2e: the README's grpcurl session against a real server (on free ports,
## so it runs beside make run)
e2e:
	@scripts/prereqs.sh e2e
	@$(MAKE) --no-print-directory build grpcurl
	scripts/e2e.sh

## lint: gofmt, go vet, golangci-lint (.golangci.yml: 0 findings), buf lint, no breaking change against the released API, generated code up to date
lint:
	@scripts/prereqs.sh lint
	@$(MAKE) --no-print-directory tools golangci-lint
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	go vet ./...
	cd deploy && go vet ./...
	golangci-lint run ./...
	buf lint
	buf breaking --against proto-baseline
	$(MAKE) generate
	@git diff --exit-code --stat -- gen/ $(PY_GEN) || { echo "gen/ or the Python stubs are stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- gen/ $(PY_GEN))" || { echo "gen/ or the Python stubs have untracked files: run make generate and commit"; exit 1; }

## generate: Go stubs (buf) into gen/, Python stubs (protoc) into clients/python/aiconfig/
generate: tools python-tools
	buf generate
	rm -f $(addsuffix /*_pb2*.py,$(PY_GEN))
	inc=$$(dirname "$$(command -v protoc)")/../include && \
	protoc -I proto -I "$$inc" --python_out=clients/python --grpc_python_out=clients/python \
		--plugin=protoc-gen-grpc_python="$$(command -v grpc_python_plugin)" proto/aiconfig/v1/*.proto && \
	protoc -I clients/python/proto -I "$$inc" --python_out=clients/python clients/python/proto/aiconfig/_rpc/*.proto

python-tools:
	@scripts/prereqs.sh generate
	@v=$$(protoc --version | awk '{print $$2}'); [ "$$v" = "$(PROTOC_VERSION)" ] || \
		echo "warning: protoc $$v; the committed Python stubs come from $(PROTOC_VERSION) (Debian 12), so make lint may see a difference"

## python-rpc-protos: refresh the vendored google.rpc protos (Status, ErrorInfo, BadRequest) from npm
python-rpc-protos:
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && npm pack --silent google-proto-files@$(GOOGLE_PROTO_FILES) >/dev/null && tar xzf google-proto-files-$(GOOGLE_PROTO_FILES).tgz) && \
	mkdir -p clients/python/proto/aiconfig/_rpc && \
	for f in status error_details; do \
		{ echo "// Vendored by make python-rpc-protos from npm google-proto-files@$(GOOGLE_PROTO_FILES), google/rpc/$$f.proto,"; \
		  echo "// with the package renamed: protobuf refuses a second, different google/rpc/$$f.proto in one"; \
		  echo "// process (e.g. googleapis-common-protos'), and the wire format does not depend on names."; \
		  echo; \
		  sed 's/^package google\.rpc;/package aiconfig.rpc;/' "$$tmp/package/google/rpc/$$f.proto"; \
		} > clients/python/proto/aiconfig/_rpc/$$f.proto; \
	done

## proto-baseline: at a release, make the current API the one buf breaking protects
proto-baseline:
	rm -rf proto-baseline/aiconfig
	cp -r proto/aiconfig proto-baseline/

tools:
	@command -v buf >/dev/null || go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	@command -v protoc-gen-go >/dev/null || go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO)
	@command -v protoc-gen-go-grpc >/dev/null || go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC)

# golangci-lint, at the pinned version (an older one on PATH is replaced).
golangci-lint:
	@golangci-lint version 2>/dev/null | grep -q "version $(GOLANGCI_LINT_VERSION:v%=%) " || go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

grpcurl:
	@command -v grpcurl >/dev/null || go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)
	@command -v grpc-health-probe >/dev/null || go install github.com/grpc-ecosystem/grpc-health-probe@$(HEALTH_PROBE_VERSION)

clean:
	rm -rf bin
