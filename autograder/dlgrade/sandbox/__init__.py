"""The student side: a fresh, unprivileged, offline, resource-limited process per submission.

``spawn`` (trusted) starts ``boot`` (trusted code, runs first in the new process), which isolates the
process and then executes ``server``, the loop that runs the graded cells and answers calls.
"""
