from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class MailStatus(StrEnum):
    WARTEND = 'wartend'
    GESENDET = 'gesendet'
    FEHLGESCHLAGEN = 'fehlgeschlagen'


class OutboxMail(Model):
    """One e-mail, written in the transaction of the change it reports and delivered later by the worker
    (services/mail_worker.py). A rolled-back change leaves no row, so nothing is sent about it.

    `due_at` is when the next attempt may start; a worker that takes the row moves it to the end of its lease, so a
    worker that dies mid-send leaves the row to be taken again after the lease. The bodies may hold one-time links:
    they are emptied once the mail is delivered or given up.
    """

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=40)
    recipient = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=300)
    body_text = fields.TextField()
    body_html = fields.TextField()
    status = fields.CharEnumField(MailStatus, max_length=20, default=MailStatus.WARTEND)
    attempts = fields.IntField(default=0)
    due_at = fields.DatetimeField()
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, default='')
    customer_id = fields.IntField(null=True)  # whose company the mail concerns (none: staff, employees)
    object_type = fields.CharField(max_length=20, default='')
    object_id = fields.CharField(max_length=40, default='')

    class Meta:
        table = 'outbox_mail'
        indexes = [('status', 'due_at'), ('kind', 'object_id'), ('created_at',)]


class JobRun(Model):
    """One run of a scheduled job for one period (e.g. the digest of 2026-11-30): the unique pair is the lease that
    lets exactly one process act, however many schedulers wake at once. A run not finished within its lease (the
    process died) may be taken over."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=40)
    period = fields.CharField(max_length=40)
    started_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    result = fields.CharField(max_length=200, default='')

    class Meta:
        table = 'job_run'
        unique_together = [('name', 'period')]
