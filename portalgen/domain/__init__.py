"""The billing domain: the model, money arithmetic, what a customer owes, identifiers.

Pure code with no I/O. It imports nothing of portalgen but `errors` and `textsafe`, so every
other layer (readers, rendering, mail, the gate) can build on it.
"""
