"""Fixtures for the pages: logged-in clients per role, a PDF upload, a task with history."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from tests.tracker.factories import InspectionFactory, ProblemFactory, TaskFactory
from tracker.models import TaskStatus


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice):
    return logged_in(alice)


@pytest.fixture
def bob_client(bob):
    return logged_in(bob)


@pytest.fixture
def chief_client(chief):
    return logged_in(chief)


@pytest.fixture
def sam_client(sam):
    return logged_in(sam)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def inspection(db):
    return InspectionFactory(title="市委第一巡察组巡察市教育局反馈意见整改")


@pytest.fixture
def alice_task(bureau, inspection, today):
    """An in-progress task of alice's bureau, due in a month."""
    return TaskFactory(
        lead_unit=bureau, problem=ProblemFactory(inspection=inspection),
        title="规范课后服务收费", status=TaskStatus.IN_PROGRESS,
        deadline=today + dt.timedelta(days=30),
    )


@pytest.fixture
def bob_task(town, today):
    return TaskFactory(lead_unit=town, title="推行村级财务每月公开", status=TaskStatus.IN_PROGRESS,
                       deadline=today + dt.timedelta(days=30))


def pdf_upload(name: str = "整改报告.pdf", body: bytes = b"%PDF-1.4 evidence of rectification"):
    return SimpleUploadedFile(name, body, content_type="application/pdf")
