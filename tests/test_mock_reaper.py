"""No worker outlives its mock account, even when the account is SIGKILLed (review row 10).

The mock runs in a child process here; two functions keep it busy, one of them leaving a
double-forked grandchild behind (outside the worker's process tree). Processes are found by a
token in the functions' environment, since a sandboxed worker's own pid means nothing outside.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from process_support import processes_with

from helpers.config import PROJECT_ROOT

BUSY_MOCK = r"""
import io, json, sys, time, zipfile
from helpers.mock import MockAccount

handler = '''
import os, time
def lambda_handler(event, context):
    if event.get("fork"):
        if os.fork() == 0:
            if os.fork() == 0:
                time.sleep(600)
            os._exit(0)
    while True:
        pass
'''
package = io.BytesIO()
with zipfile.ZipFile(package, "w") as archive:
    archive.writestr("handler.py", handler)
account = MockAccount()
session = account.start()
iam = session.client("iam")
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
         "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
client = session.client("lambda")
for name in ("spin1", "spin2"):
    client.create_function(FunctionName=name, Role=role, Runtime="python3.12", Timeout=300,
                           Handler="handler.lambda_handler", Code={"ZipFile": package.getvalue()},
                           Environment={"Variables": {"REAPER_TEST": sys.argv[1]}})
client.invoke(FunctionName="spin1", InvocationType="Event", Payload=json.dumps({"fork": True}))
client.invoke(FunctionName="spin2", InvocationType="Event", Payload=b"{}")
deadline = time.time() + 60
while len(account.lambda_service.worker_pids()) < 2 and time.time() < deadline:
    time.sleep(0.1)
print(" ".join(map(str, account.lambda_service.worker_pids())), flush=True)
time.sleep(600)
"""


def test_workers_and_their_orphans_die_when_the_mock_is_killed():
    token = uuid.uuid4().hex
    process = subprocess.Popen(
        [sys.executable, "-c", BUSY_MOCK, token],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(PROJECT_ROOT),
        env={**os.environ, "RPY2_CFFI_MODE": "ABI"},
    )
    try:
        workers = [int(pid) for pid in process.stdout.readline().split()]
        assert len(workers) == 2, "the functions did not start"
        deadline = time.monotonic() + 30
        while len(processes_with("REAPER_TEST", token)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)  # two workers and the grandchild
        started = processes_with("REAPER_TEST", token)
        assert set(workers) <= started and len(started) >= 3
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + 20
    while processes_with("REAPER_TEST", token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with("REAPER_TEST", token) == set()
