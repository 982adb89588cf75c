"""E-mail through Django's configured backend (SMTP in production)."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage

from tracker.channels import SendFailed, TryLater


def send(*, to: str, subject: str, body: str) -> None:
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as error:
        raise SendFailed(f"收件人被拒绝：{to}") from error
    except smtplib.SMTPResponseException as error:
        if 400 <= error.smtp_code < 500:
            raise TryLater(f"SMTP {error.smtp_code} {error.smtp_error!r}") from error
        raise SendFailed(f"SMTP {error.smtp_code} {error.smtp_error!r}") from error
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as error:
        raise TryLater(f"SMTP 连接失败：{error}") from error
    except (TimeoutError, OSError) as error:
        raise TryLater(f"SMTP 网络错误：{error}") from error
