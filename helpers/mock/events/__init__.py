"""EventBridge schedules in the mock account: scheduled rules that fire, on a clock that can run fast.

moto keeps the rules and targets and answers EventBridge's API (its wire layer); this package is
the backend moto lacks: ``schedule_expressions`` parses ``rate(...)``/``cron(...)`` as EventBridge
does, and ``scheduler.Scheduler`` fires due rules at their Lambda targets through the Lambda
service's asynchronous queues.
"""
