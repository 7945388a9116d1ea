"""The demo city: demo accounts, the synthetic population loaded through the real ingestion
path, and the preparation `dajiuzhu demo` runs. Django code; :mod:`dajiuzhu.synth` is the pure
generator it calls."""
