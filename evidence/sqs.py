"""Reading ANY_OFFER_CHANGED notifications from the Amazon SQS queue they are delivered to.

Messages are deleted only after the caller has stored and processed them; one that is
not deleted comes back after the queue's visibility timeout (at-least-once delivery;
the NotificationId makes a repeat harmless).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from django.conf import settings


@dataclass(frozen=True)
class Message:
    receipt_handle: str
    body: Any  # the parsed JSON, or None when the body is not JSON


@cache
def _client() -> Any:
    return boto3.client("sqs", region_name=settings.SPAPI_SQS_REGION, endpoint_url=settings.SPAPI_SQS_ENDPOINT_URL)


def receive(*, wait_seconds: int, max_messages: int = 10) -> list[Message]:
    answer = _client().receive_message(
        QueueUrl=settings.SPAPI_SQS_QUEUE_URL,
        MaxNumberOfMessages=max_messages,
        WaitTimeSeconds=wait_seconds,
    )
    messages = []
    for raw in answer.get("Messages", []):
        try:
            body = json.loads(raw.get("Body") or "")
        except ValueError:
            body = None
        messages.append(Message(raw["ReceiptHandle"], body))
    return messages


def delete(messages: list[Message]) -> None:
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        _client().delete_message_batch(
            QueueUrl=settings.SPAPI_SQS_QUEUE_URL,
            Entries=[{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(chunk)],
        )
