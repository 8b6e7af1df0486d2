# Thin wrappers over ./dev, which does all set-up (virtual environment, package, Chromium).
.PHONY: setup demo test bench
setup: ; ./dev setup
demo: ; ./dev demo
test: ; ./dev test
bench: ; ./dev bench
