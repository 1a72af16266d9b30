"""Latency, throughput, size and cold-start measurements, always as ratios against a contender."""
