"""Benchmarks of resizeq: the resize kernel, the whole pipeline and consumer scaling."""
