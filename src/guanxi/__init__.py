"""Guanxi (关系): a CRM for utilities and key-account businesses."""

__version__ = "0.1.0"
