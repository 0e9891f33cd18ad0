"""`make bench`: the inbox, the handoff, the PT home and the discharge at scale, and the notification
pipeline, measured against a minimal baseline view. See docs/benchmarks.md."""
