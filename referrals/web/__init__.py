"""The HTML pages: one module per area (an adapter: parse, select, call a service, render)."""
