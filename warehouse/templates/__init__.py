"""Templates of the exports (the HTML email digest)."""
