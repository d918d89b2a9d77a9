"""People and what they may do: the roles of DESIGN §2."""
