"""What runs beside the service: the ``salesops`` command line and the demo data set.

Callers of the domain like ``api/``; nothing in ``domain/`` or ``api/`` imports
them.
"""
