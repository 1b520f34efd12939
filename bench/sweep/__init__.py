"""A sweep of jobs: checking them first, claims, each job in a child process, the finish."""
