# kubectl-sherpack. `make demo` and `make test` are the two commands a newcomer needs.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
GO ?= go
OUT := $(CURDIR)/_output
BIN := $(OUT)/bin
TOOLS := $(OUT)/tools
VERSION ?= $(shell ./hack/version.sh)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
PKG := github.com/sherpack/kubectl-sherpack/pkg/plugin
LDFLAGS := -s -w -X $(PKG).version=$(VERSION) -X $(PKG).gitCommit=$(COMMIT) -X $(PKG).buildDate=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build tools cluster-up cluster-down test unit e2e demo lint bench dist krew-validate install clean soak race fuzz

all: build

build: ## the plugin binary and the cluster helper
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kubectl-sherpack ./cmd/kubectl-sherpack
	CGO_ENABLED=0 $(GO) build -o $(BIN)/cluster ./hack/cluster
	@install -m 0755 hack/completion/kubectl_complete-sherpack $(BIN)/kubectl_complete-sherpack

tools: ## control plane binaries, built from pinned modules only when missing
	BIN_DIR=$(TOOLS) ./hack/build-tools.sh
	BIN_DIR=$(TOOLS) ./hack/build-helm.sh

cluster-up: tools build ## start the local control plane in the background; prints the KUBECONFIG to export
	@$(BIN)/cluster up --dir $(OUT)/cluster --bin $(TOOLS)

cluster-down: ## stop it (logs stay in _output/cluster/logs)
	@$(BIN)/cluster down --dir $(OUT)/cluster

test: tools build ## unit + end-to-end tests against a real local control plane
	./hack/test.sh

demo: tools build ## the plugin at work against the local control plane
	./hack/demo.sh

lint:
	@fmt=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$fmt" ]; then echo "gofmt needed:"; echo "$$fmt"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

bench: tools build ## benchmarks (some need the control plane; started and stopped here)
	./hack/bench.sh

dist: ## static binaries for linux/darwin/windows x amd64/arm64 as tar.gz (with the completion helper and LICENSE), sha256, dist/sherpack.yaml
	./hack/dist.sh $(VERSION) '$(LDFLAGS)'

krew-validate: ## validate dist/sherpack.yaml (written by make dist) with krew's own validator (built on its own)
	./hack/krew-validate.sh

install: build ## copy kubectl-sherpack and its completion helper to $(PREFIX)/bin (default ~/.local/bin), which must be on PATH
	@dst=$${PREFIX:-$$HOME/.local}/bin; mkdir -p $$dst; \
	  install -m 0755 $(BIN)/kubectl-sherpack $(BIN)/kubectl_complete-sherpack $$dst/; \
	  echo "installed $$dst/kubectl-sherpack and $$dst/kubectl_complete-sherpack (completion of kubectl sherpack)"

clean:
	rm -rf $(OUT)/bin $(OUT)/cluster dist

soak: tools build ## fault tests through a misbehaving proxy (loopback only, bounded in time and count)
	GOTESTFLAGS='-tags soak -run Soak -v' ./hack/test.sh

race: tools build ## make test with the race detector, in the tests and in the plugin they drive
	$(GO) build -race -o $(BIN)/kubectl-sherpack-race ./cmd/kubectl-sherpack
	SHERPACK_TEST_BIN=$(BIN)/kubectl-sherpack-race GOTESTFLAGS=-race ./hack/test.sh

FUZZTIME ?= 10m
fuzz: ## the template fuzzer for FUZZTIME (default 10m), then 20000 random templates checked against Python's Jinja2
	nice -n 19 $(GO) test ./pkg/render -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME) -parallel 1
	SHERPACK_GEN_COUNT=$${SHERPACK_GEN_COUNT:-20000} SHERPACK_GEN_SEED=$${SHERPACK_GEN_SEED:-$$(date +%s)} nice -n 19 $(GO) test ./pkg/render -run '^TestGeneratedTemplatesAgreeWithJinja2$$' -count=1 -v -timeout 60m
