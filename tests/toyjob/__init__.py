"""A toy job that lives outside `rnnlab/tasks/`: it learns the mean of one CSV column.

It exists to prove that adding a job is one folder plus one `rnnlab.jobs.Job` entry
(`tests/test_jobs.py` registers it for the duration of a test). It imports nothing from
`rnnlab.tasks`.
"""

from rnnlab.jobs import Job

# The toy job's one registry entry (tests/test_jobs.py registers it for its tests).
JOB = Job(
    name="toy",
    help="Learn the mean of a CSV column (a toy job that lives in tests/).",
    cli="tests.toyjob.cli:app",
    api="tests.toyjob.api:ToyModel",
    model_file="toy.json",
)
