"""Ingest: read a wave's raw export, screen rows, recode answers, derive variables, account for every row."""
