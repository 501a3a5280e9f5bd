"""Small real programs built on gee, one per system; each runs with one command."""
