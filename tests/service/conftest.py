"""Fixtures of the service tests."""

import pytest

from guanxi.service import reschedule, sms, surveys, tasks


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


class SurveyTasks:
    """The survey sending jobs (`service.survey_send`). By default a survey's job runs in-process when its send
    request hands it off (the eager way the project runs tasks in tests); with `eager = False` the survey ids wait
    here and `run()` is the worker."""

    def __init__(self):
        self.eager = True
        self.pending: list[int] = []

    def start(self, survey_id: int) -> None:
        if self.eager:
            surveys.survey_deliver(survey_id)
        else:
            self.pending.append(survey_id)

    def run(self) -> list[dict]:
        pending, self.pending = self.pending, []
        return [surveys.survey_deliver(pk) for pk in pending]


@pytest.fixture(autouse=True)
def survey_tasks(monkeypatch) -> SurveyTasks:
    """Test transactions never commit, so the after-commit hand-off is replaced by the recorder above."""
    recorder = SurveyTasks()
    monkeypatch.setattr(surveys, "start_sending", recorder.start)
    return recorder


class RescheduleTasks:
    """The SLA rescheduling jobs (`service.sla_reschedule`) started by a holiday or business-hours change: run
    in-process at once by default (test transactions never commit); with `eager = False` the job ids wait here (their
    rows stay pending, as when the message is lost) and `run()` is the worker. The messages the resume sweep sends
    (job id and claim) wait in `sent` until `deliver()` runs them as the worker would."""

    def __init__(self):
        self.eager = True
        self.pending: list[int] = []
        self.results: list[dict | None] = []
        self.sent: list[tuple] = []

    def hand_off(self, job_id: int) -> None:
        if self.eager:
            self.results.append(reschedule.run(job_id))
        else:
            self.pending.append(job_id)

    def run(self, **options) -> list[dict | None]:
        pending, self.pending = self.pending, []
        return [reschedule.run(job_id, **options) for job_id in pending]

    def send(self, args, **options) -> None:
        self.sent.append(tuple(args))

    def deliver(self) -> list[dict | None]:
        sent, self.sent = self.sent, []
        return [tasks.sla_reschedule(*args) for args in sent]


@pytest.fixture(autouse=True)
def reschedule_tasks(monkeypatch) -> RescheduleTasks:
    recorder = RescheduleTasks()
    monkeypatch.setattr(reschedule, "hand_off", recorder.hand_off)
    monkeypatch.setattr(tasks.sla_reschedule, "apply_async", recorder.send)
    return recorder
