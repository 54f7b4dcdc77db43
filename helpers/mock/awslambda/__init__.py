"""AWS Lambda in the mock account: moto keeps the functions' configuration, this package runs them.

Backend (state and behaviour): ``service.LambdaService`` runs invokes on each function's pool of
execution environments (``pools``), queues events (``async_events``) and enforces MemorySize
(``memory``); ``provision`` builds an environment and ``environment`` is one, a sandboxed zip
worker (``sandbox``) or a container (``container``), with its records in ``environment_types`` and
its process variables in ``variables``; ``code`` checks and unpacks packages, ``output`` and
``logs`` turn a worker's output into CloudWatch Logs, ``reaper`` and ``peers`` keep workers to
themselves, ``roles`` and ``passrole`` are IAM as Lambda applies it, ``configuration_checks`` are
Lambda's checks on a function's configuration and ``errors`` the Lambda API's errors. Wire (HTTP on
either side), in the ``wire_*`` modules: ``wire_requests`` handles moto's Lambda requests (names,
resources, Invoke), ``wire_checks`` checks them against the Lambda API model, ``wire_invoke``
holds the Invoke API's payload and result rules, ``wire_runtime_api`` is the Runtime API server a
function's runtime talks to. ``moto_patches`` hooks both into moto: checks and retiring on moto's
Lambda backend, resources and Invoke on its responses.
"""
