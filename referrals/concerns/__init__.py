"""Concerns a trainer raises with the physiotherapist, and their answers."""
