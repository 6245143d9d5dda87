# hull: the two commands a new user types are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= $(shell command -v cargo || echo $(HOME)/.cargo/bin/cargo)
HULL := target/release/hull
DEMO_BUNDLE := target/demo-bundle
APT_PACKAGES_TEST := busybox-static runc crun strace
APT_PACKAGES_DEMO := busybox-static

.PHONY: all build release demo test unit integration conformance bench clients deps-demo deps-test deps-clients clean

all: release

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# Install only what is missing; apt-get update once, only when something is.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deps-demo:
	$(call apt_install,$(APT_PACKAGES_DEMO))

deps-test:
	$(call apt_install,$(APT_PACKAGES_TEST))

demo: deps-demo release
	hack/demo.sh $(HULL) $(DEMO_BUNDLE)

# Unit tests need no root; integration tests (a debug build: quick to compile)
# and the conformance suite (the release binary that ships) run real containers.
test: deps-test release
	timeout 900 $(CARGO) test -- --test-threads=2
	$(MAKE) conformance

unit:
	$(CARGO) test --lib

integration:
	$(CARGO) test --test '*' -- --test-threads=2

conformance: release
	@if [ -x runtime-tools-tests/run.sh ]; then runtime-tools-tests/run.sh --runtime $(abspath $(HULL)); else echo "conformance: suite not built yet"; fi

bench: deps-test release
	@if [ -x hack/bench.sh ]; then hack/bench.sh; else echo "bench: not built yet"; fi

# Real engines (containerd, podman, dockerd) against hull; not part of make test.
deps-clients:
	$(call apt_install,busybox-static containerd podman docker.io)

clients: deps-clients release
	hack/clients.sh $(HULL)

clean:
	$(CARGO) clean
