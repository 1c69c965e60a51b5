"""The sans-I/O protocol core: bytes and method calls in, values and events out.

Nothing in this package opens a socket or a file, reads a clock, draws random numbers or
imports anything outside the standard library: time, randomness, signatures and hash
functions are handed in by the caller. Every consequence is returned as a value; nothing
here calls back into the caller.
"""
