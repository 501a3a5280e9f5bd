"""The apps under measurement, one module per framework.

Each module defines two ASGI apps: ``plaintext`` (``GET /`` answers "Hello, World!") and
``github`` (the 203 GitHub API routes; ``GET /user/keys/:id`` answers the id as text/plain, every
other route answers "other"). Each is written the way that framework's documentation writes a
plain-text endpoint, with its own path syntax; nothing is tuned beyond switching off generated
documentation routes that would add routes to scan.
"""
