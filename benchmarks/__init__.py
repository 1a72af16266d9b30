"""Latency, throughput, size and cold-start measurements, always as ratios against a contender."""

from edge_distill.runtime.extras import require_extra

require_extra("bench", "the benchmarks")  # once, here: the modules below import psutil and tqdm at their top
