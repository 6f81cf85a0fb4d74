"""inrzoo: semantic video implicit neural representations.

Importing the package registers the built-in plugins; third-party entry points are
discovered lazily (see :mod:`inrzoo.registry`).
"""

__version__ = "0.1.0"
