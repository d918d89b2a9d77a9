"""The web shell: base layout, home page, login and language switching."""
