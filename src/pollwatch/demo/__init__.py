"""`pollwatch demo`: a realistic national referendum on the embedded database, in one command."""
