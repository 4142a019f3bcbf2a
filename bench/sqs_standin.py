"""A small, fast in-memory server speaking Amazon SQS's JSON protocol, for bench/watch.py.

moto's server takes milliseconds per message, which would measure moto rather than the
consumer. This one implements what ``evidence.sqs`` and the bench call: CreateQueue,
SendMessageBatch, ReceiveMessage (with long polling and a visibility timeout),
DeleteMessageBatch and GetQueueAttributes. The tests use moto, which checks the protocol.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Queue:
    visible: OrderedDict[str, tuple[str, str]] = field(default_factory=OrderedDict)  # id -> (body, md5)
    inflight: dict[str, tuple[str, str, str, float]] = field(default_factory=dict)  # handle -> (id, body, md5, until)


class StandIn:
    def __init__(self) -> None:
        self.queues: dict[str, _Queue] = {}
        self.lock = threading.Condition()
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes: without this, Nagle's algorithm
                # and delayed ACKs hold each answer back 40 ms.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                action = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                answer = getattr(standin, f"_{action}")(body, f"http://{self.headers['Host']}")
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _queue(self, body: dict[str, Any]) -> _Queue:
        return self.queues[body["QueueUrl"].rpartition("/")[2]]

    def _CreateQueue(self, body: dict[str, Any], base: str) -> dict[str, Any]:
        with self.lock:
            self.queues.setdefault(body["QueueName"], _Queue())
        return {"QueueUrl": f"{base}/000000000000/{body['QueueName']}"}

    def _SendMessageBatch(self, body: dict[str, Any], base: str) -> dict[str, Any]:
        queue = self._queue(body)
        done = []
        with self.lock:
            for item in body["Entries"]:
                message_id = str(uuid.uuid4())
                md5 = hashlib.md5(item["MessageBody"].encode(), usedforsecurity=False).hexdigest()
                queue.visible[message_id] = (item["MessageBody"], md5)
                done.append({"Id": item["Id"], "MessageId": message_id, "MD5OfMessageBody": md5})
            self.lock.notify_all()
        return {"Successful": done, "Failed": []}

    def _ReceiveMessage(self, body: dict[str, Any], base: str) -> dict[str, Any]:
        queue = self._queue(body)
        deadline = time.monotonic() + int(body.get("WaitTimeSeconds", 0))
        wanted = int(body.get("MaxNumberOfMessages", 1))
        with self.lock:
            while True:
                now = time.monotonic()
                for handle, (message_id, text, md5, until) in list(queue.inflight.items()):
                    if until <= now:  # not deleted in time: visible again
                        del queue.inflight[handle]
                        queue.visible[message_id] = (text, md5)
                if queue.visible or now >= deadline:
                    break
                self.lock.wait(deadline - now)
            messages: list[dict[str, str]] = []
            while queue.visible and len(messages) < wanted:
                message_id, (text, md5) = queue.visible.popitem(last=False)
                handle = uuid.uuid4().hex
                queue.inflight[handle] = (message_id, text, md5, time.monotonic() + 30)
                messages.append({"MessageId": message_id, "ReceiptHandle": handle, "MD5OfBody": md5, "Body": text})
        return {"Messages": messages} if messages else {}

    def _DeleteMessageBatch(self, body: dict[str, Any], base: str) -> dict[str, Any]:
        queue = self._queue(body)
        with self.lock:
            for item in body["Entries"]:
                queue.inflight.pop(item["ReceiptHandle"], None)
        return {"Successful": [{"Id": item["Id"]} for item in body["Entries"]], "Failed": []}

    def _GetQueueAttributes(self, body: dict[str, Any], base: str) -> dict[str, Any]:
        queue = self._queue(body)
        with self.lock:
            return {
                "Attributes": {
                    "ApproximateNumberOfMessages": str(len(queue.visible)),
                    "ApproximateNumberOfMessagesNotVisible": str(len(queue.inflight)),
                }
            }
