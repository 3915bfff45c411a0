"""Outgoing mail: SMTP when a server is configured, else ``.eml`` files in ``instance/mail/`` so
the demo works with no mail server. :func:`queue` sends from the task queue, retrying on failure."""
from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path

from flask import current_app

from . import tasks


def send(to: str, subject: str, body: str) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    # A subject may carry user text (a tenant's name): a line break there would be a header injection.
    message["Subject"] = " ".join(subject.split())
    message.set_content(body)
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
    else:
        outbox = Path(current_app.instance_path) / "mail"
        outbox.mkdir(parents=True, exist_ok=True)
        (outbox / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(message))
    return message


MAIL_RETRIES = 8
MAIL_RETRY_DELAY = 60  # seconds between attempts: a mail server down for a few minutes loses nothing


@tasks.task(retries=MAIL_RETRIES, retry_delay=MAIL_RETRY_DELAY)
def deliver(to: str, subject: str, body: str) -> None:
    """Send one message from the queue; an SMTP failure raises, and the queue tries again later."""
    send(to, subject, body)


def queue(to: str, subject: str, body: str) -> bool:
    """Send in the background with retries; answers whether the queue took the message."""
    return tasks.enqueue(deliver, to, subject, body)
