"""The variance report: what the providers said happened, day by day, against what Sage
holds (`bridge report`, the console's Report page). See `bridge.reports.variance`."""
