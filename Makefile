# The two commands of the README: `make demo` (the main job) and `make test`.
SHELL := /bin/bash
NODE_RUN := node --import tsx
CONFORMANCE_DIR ?= ../shared/conformance

.PHONY: setup demo test typecheck lint format conformance bench clean

setup:
	@scripts/setup.sh

demo: setup
	@scripts/demo.sh

test: setup typecheck lint
	npx vitest run
	@if [ -d "$(CONFORMANCE_DIR)/tests" ]; then $(MAKE) --no-print-directory conformance; else echo "conformance: skipped (no $(CONFORMANCE_DIR)/tests)"; fi

typecheck:
	npx tsc --noEmit -p .

lint:
	npx biome lint .

format:
	npx biome format --write .

conformance: setup
	$(NODE_RUN) test/conformance/run.ts --dir "$(CONFORMANCE_DIR)"

bench: setup
	@for f in bench/*/run.ts; do [ -e "$$f" ] || continue; echo "== $$f"; $(NODE_RUN) "$$f" || exit 1; done

clean:
	rm -rf node_modules .cache
