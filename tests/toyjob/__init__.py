"""A toy job that lives outside `rnnlab/tasks/`: it learns the mean of one CSV column.

It exists to prove that adding a job is one folder plus one `rnnlab.jobs.Job` entry
(`tests/test_jobs.py` registers it for the duration of a test). It imports nothing from
`rnnlab.tasks`.
"""
