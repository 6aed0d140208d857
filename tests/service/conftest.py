"""Fixtures of the service tests."""

import pytest

from guanxi.service import sms, tasks


class SmsTasks:
    """The `service.sms_send` tasks handed to Celery, kept here instead of a broker; `run()` is the worker."""

    def __init__(self):
        self.chunks: list[list[int]] = []
        self.broker_down = False

    def apply_async(self, args, **options):
        if self.broker_down:
            raise ConnectionRefusedError("broker down")
        self.chunks.append(list(args[0]))

    def run(self) -> None:
        chunks, self.chunks = self.chunks, []
        for chunk in chunks:
            sms.deliver_many(chunk)


@pytest.fixture(autouse=True)
def sms_tasks(monkeypatch) -> SmsTasks:
    """No test sends a task to the real (embedded) broker: text messages queued after a commit land here."""
    recorder = SmsTasks()
    monkeypatch.setattr(tasks.sms_send, "apply_async", recorder.apply_async)
    return recorder
