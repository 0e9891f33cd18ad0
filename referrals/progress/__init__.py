"""Progress: session logs, progress reports, charts and the way back to the physiotherapist."""
