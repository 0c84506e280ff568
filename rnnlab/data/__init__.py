"""Data readers and pure transforms shared by the jobs."""
