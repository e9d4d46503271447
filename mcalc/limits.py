"""Every bound on input and work, in one place (documented in the README)."""
MAX_INPUT_CHARS = 20_000     # characters of one formula (with its declarations)
MAX_DEPTH = 200              # nesting of brackets and of the parse tree
MAX_SYMBOLS = 1_000          # statements, and distinct symbols in one input
MAX_EXPONENT = 1_000         # |numerator| and denominator of any exponent
MAX_MATRIX_POWER = 32        # |k| in A^k with A a matrix
MAX_NUMBER_CHARS = 60        # digits in one numeric literal
MAX_NUMBER_EXP10 = 300       # |e| in 1e±e
MAX_DIM = 10_000_000         # an integer dimension
MAX_RESULT_NODES = 200_000   # size of a derivative before simplification gives up
