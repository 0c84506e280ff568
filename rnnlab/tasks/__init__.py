"""One folder per job; each owns its config, data module, model head, baselines, API and CLI."""
