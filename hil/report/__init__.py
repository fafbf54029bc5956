"""The lab's certification report: collected from a run's results, rendered to HTML,
Markdown and PDF."""
