"""segment-reports: analytics reports from Segment's raw tables in PostgreSQL."""

__version__ = "0.1.0"
