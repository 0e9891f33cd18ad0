"""The exercise library and its versioned data."""
