"""The demo world `make run` loads: its data, and the seeder that builds it through the services."""
