"""What both backends share: messages, validation, constants and reference math that the
compiled modules (csrc/*.pyx) and their Python twins (fastgrad/_py/*.py) both import.

The compiled modules never import fastgrad._py: the twins are references to check them
against, not dependencies (tests/test_shared.py fails if a compiled module needs them). Nothing
here imports either backend.
"""
