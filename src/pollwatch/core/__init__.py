"""pollwatch's functional core: pure Python and NumPy, no Django import, ever.

Everything here takes plain values and arrays and returns plain values, so every rule is
testable without a database and the same code serves one station and a million.
"""
