"""The bottom layer every other package may import: settings and the error types of the contracts.

It imports nothing from ``agent``, ``tools``, ``sandbox`` or ``knowledge``, so imports only run downward.
"""
