"""Reporting: the summary of one analysed network, as a table for people or as data."""
