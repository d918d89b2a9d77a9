"""Registry: elections, protocol templates, the commission hierarchy and polling stations."""
