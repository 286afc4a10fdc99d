# sfrefresh: `make` builds, `make test` is what CI runs, `make demo` shows it working.
CARGO  ?= cargo
PREFIX ?= /usr/local
BINDIR  = $(DESTDIR)$(PREFIX)/bin

.PHONY: build test demo install clean

build:
	$(CARGO) build --release --locked

test:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	$(CARGO) test --locked

demo: build
	$(CARGO) build --release --locked --example token_server
	sh examples/demo.sh target/release/sfrefresh target/release/examples/token_server

install: build
	install -d $(BINDIR)
	install -m 0755 target/release/sfrefresh $(BINDIR)/sfrefresh

clean:
	$(CARGO) clean
	rm -rf dist
