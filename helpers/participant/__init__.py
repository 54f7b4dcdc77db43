"""The IAM policy a workshop participant needs, generated from what the series really calls.

``python -m helpers.participant_policy --prefix ann`` (``make participant-policy PREFIX=ann``)
prints the identity policy for a participant's IAM user or IAM Identity Center permission set.
It is not written by hand: the series' steps (the catch-up path of every notebook, the lessons'
users and roles, the schedule, invoking and reading logs, notebook 9's REST API, key, usage
plans and function permissions, notebook 10's site bucket and CORS, notebook 11's reads and
deletes) run on a private mock account with live names, every API call is recorded
(``helpers.calls``), each
``service.Operation`` is mapped to the IAM action(s) AWS checks (:data:`ACTION_TABLE` lists the
ones that are not simply ``service:Operation``, with their sources), and each action is scoped to
the resources of the participant's prefix wherever the service allows it (API Gateway's ARNs
hold ids, not names: there the ``owner``/``project`` tags limit it).

Two things no recording on the mock can show are added from AWS's documentation and said so:
the calls ``docker push`` makes (:data:`PUSH_ACTIONS`) and the live-only calls of notebook 4 and
of ``make doctor`` (:data:`LIVE_ONLY_CALLS`).

What the policy cannot prevent, and why, is in ``policies/participant/README.md``: a
participant may write any document into their *own* ServerlessPOC policy and scratch user, so a
permissions boundary (not set by the series today) is what would cap them.
"""
