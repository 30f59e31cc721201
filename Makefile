# 好商量 — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench install clean native-libs browser-tools fonts pictures screenshots

# Each slow step says what it does and about how long it takes before it starts, and a
# line every 10 s while it is silent (tools/step.py): a first `make run` never looks hung.
STEP := $(PYTHON) -I tools/step.py

$(BIN)/python:
	@if ! $(PYTHON) -m venv --help >/dev/null 2>&1 || ! $(PYTHON) -c 'import ensurepip' >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    $(STEP) "用 apt 安装 python3-venv（约 30 秒）" -- bash -c \
	      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null'; \
	  else \
	    echo "python3 -m venv 不可用：请运行 'sudo apt-get install python3-venv' 后重试"; exit 1; \
	  fi; \
	fi
	@$(STEP) "创建 Python 虚拟环境 .venv（约 5 秒）" -- $(PYTHON) -m venv $(VENV)

# pip's own output is kept to warnings and errors (-q); the step says what is going on.
$(STAMP): $(BIN)/python pyproject.toml
	@$(STEP) "升级 pip（约 5 秒）" -- \
	  $(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(STEP) "安装本项目及其依赖（pip，约 1 分钟；只在第一次和 pyproject.toml 改动后）" -- \
	  $(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# WeasyPrint subsets fonts 20–30x faster with HarfBuzz's subsetter (Debian: libharfbuzz-subset0).
native-libs:
	@if ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so.0'; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    $(STEP) "用 apt 安装 libharfbuzz-subset0，PDF 生成快 20–30 倍（约 10 秒）" -- bash -c \
	      'apt-get install -y -qq libharfbuzz-subset0 >/dev/null 2>&1 || \
	       (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libharfbuzz-subset0 >/dev/null)' || \
	      echo "未能安装 libharfbuzz-subset0：PDF 生成将慢 20–30 倍"; \
	  else \
	    echo "缺少 HarfBuzz 子集库，PDF 生成将慢 20–30 倍：请运行 'sudo apt-get install libharfbuzz-subset0'"; \
	  fi; \
	fi

# The documents' faces (docs/documents.md): Debian's Noto CJK (a Black serif for 小标宋, 黑体,
# 宋体) and AR PL UKai (楷体) with apt as root, FandolFang (仿宋) out of TeX Live's Chinese
# package (no root needed); then each is cut to GB 2312 once per machine, on every core.
# The command says each step and its time itself; then what is missing, if any.
fonts: $(STAMP)
	@$(STEP) "" -- $(BIN)/deliberation fonts --install --quiet

# The browser tests need Debian's Chromium and axe-core (npm); without them they skip.
browser-tools:
	@if command -v chromium >/dev/null && [ ! -f node_modules/axe-core/axe.min.js ]; then \
	  if command -v npm >/dev/null; then \
	    npm ci --no-audit --no-fund --silent >/dev/null 2>&1 || npm install --no-audit --no-fund --silent >/dev/null 2>&1 || \
	      echo "could not install axe-core with npm: the accessibility checks will be skipped"; \
	  else \
	    echo "npm not found: the accessibility checks will be skipped (sudo apt-get install npm)"; \
	  fi; \
	fi

run: $(STAMP) native-libs fonts
	@mkdir -p var
	@$(STEP) "迁移数据库（约 5 秒）" -- $(BIN)/deliberation migrate
	@$(STEP) "演示数据：数据库为空时生成，连同其公文 PDF（约 15 秒）" -- \
	  $(BIN)/deliberation demo --if-empty --host $(HOST) --port $(PORT)
	@echo "==> 启动服务（约 5 秒）：好商量 serving on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/schema)"
	@$(BIN)/deliberation serve --host $(HOST) --port $(PORT)

# On every core (pytest-xdist), a test module's tests together on one worker: its
# module-scoped fixtures are built once (docs/benchmarks.md, "Test suite"). PYTEST_ARGS adds
# pytest options (CI: a JUnit report to count from).
test: $(STAMP) native-libs browser-tools fonts
	$(BIN)/python -m pytest -n auto --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# docs/documents/*.png: page 1 of each kind of document, rendered from the demo.
pictures: $(STAMP) native-libs fonts
	$(BIN)/python docs/documents/pictures.py

# The pages as people see them (demo data, Chromium): docs/screenshots/*.png.
screenshots: $(STAMP) native-libs fonts browser-tools
	$(BIN)/python docs/screenshots/take.py

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache node_modules
