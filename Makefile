# The commands a newcomer needs; each is a thin wrapper over scripts/.
.PHONY: run test setup train bench lock

run:    ## install, train if needed, start everything, print where to chat
	@scripts/run.sh

test:   ## the whole test suite (what CI runs)
	@scripts/test.sh $(ARGS)

setup:  ## create .venv (Python 3.10) and install the pinned dependencies
	@scripts/setup.sh

train:  ## train the model if config, domain or data changed
	@scripts/train.sh

bench:  ## latency, throughput, memory and NLU figures (needs nothing running)
	@scripts/setup.sh && .venv/bin/python scripts/bench.py

lock:   ## re-pin requirements.txt from requirements.in
	@.venv/bin/pip install -r requirements.in && \
	  (echo "# Fully pinned install set for Python 3.10 (generated from requirements.in by 'make lock'; do not edit by hand)."; \
	   .venv/bin/pip freeze --exclude-editable) > requirements.txt
