"""Issue #11, small inputs: a text evidence file is served with its detected charset (page and
API), an empty upload says so and names the file, and a refused file among several is named —
on the page and on the API alike, with nothing stored."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.tracker.factories import EvidenceFactory
from tests.tracker.web.conftest import pdf_upload
from tracker.models import Evidence, ProgressReport
from tracker.services.evidence import CHARSET_SNIFF_BYTES, detect_charset

pytestmark = pytest.mark.django_db

NOTE = "整改会议纪要：已完成收费清理，退还多收费用。\n"


def text_evidence(task, name: str, data: bytes, content_type: str):
    return EvidenceFactory(task=task, original_name=name, content_type=content_type,
                           content=data)


# --- Charset ---------------------------------------------------------------------------------


def test_gbk_text_is_served_as_gb18030_on_the_page_and_the_api(alice, alice_client, client_for,
                                                               alice_task):
    data = NOTE.encode("gbk")
    evidence = text_evidence(alice_task, "纪要.txt", data, "text/plain")

    page = alice_client.get(f"/evidence/{evidence.pk}/")
    assert page["Content-Type"] == "text/plain; charset=gb18030"
    assert b"".join(page.streaming_content) == data  # the bytes as uploaded, only labelled
    shown = alice_client.get(f"/evidence/{evidence.pk}/?inline=1")
    assert shown["Content-Disposition"].startswith("inline")  # text is still shown in place

    api = client_for(alice).get(f"/api/v1/evidence/{evidence.pk}/download/")
    assert api.status_code == 200
    assert api["Content-Type"] == "text/plain; charset=gb18030"
    assert b"".join(api.streaming_content).decode("gb18030") == NOTE


def test_utf8_csv_is_served_as_utf8_and_binary_types_are_left_alone(alice, client_for,
                                                                    alice_task):
    csv = text_evidence(alice_task, "清单.csv", "单位,金额\n市教育局,1200\n".encode(), "text/csv")
    pdf = EvidenceFactory(task=alice_task)
    client = client_for(alice)
    assert (client.get(f"/api/v1/evidence/{csv.pk}/download/")["Content-Type"]
            == "text/csv; charset=utf-8")
    assert client.get(f"/api/v1/evidence/{pdf.pk}/download/")["Content-Type"] == "application/pdf"


def test_a_csv_upload_is_accepted_and_labelled(
    alice, client_for, alice_task, django_capture_on_commit_callbacks
):
    client = client_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/tasks/{alice_task.pk}/evidence/", {
            "file": SimpleUploadedFile("退费清单.csv", "单位,金额\n市教育局,1200\n".encode("gbk")),
        }, format="multipart")
    assert response.status_code == 201, response.json()
    download = client.get(response.json()["download_url"])
    assert download["Content-Type"] == "text/csv; charset=gb18030"


@pytest.mark.parametrize(("data", "charset"), [
    ("佐证材料".encode("utf-8-sig"), "utf-8"),
    ("佐证材料".encode("utf-16"), "utf-16"),
    (b"plain ascii", "utf-8"),
    ("巡视整改，".encode("gb18030") * 10, "gb18030"),
    ("退费清单,金额\n市教育局,1200\n".encode("gbk"), "gb18030"),
    ("退費清單,金額\n市教育局,1200\n".encode("big5"), "big5"),
    ("巡視整改工作報告：各責任單位應於期限內完成整改，並報送佐證材料。".encode("big5"), "big5"),
])
def test_detect_charset(data, charset):
    assert detect_charset(data) == charset


def test_detection_reads_a_bounded_head_even_when_it_cuts_a_character():
    # 3-byte UTF-8 characters: the sniffed head ends in the middle of one.
    data = ("整" * (CHARSET_SNIFF_BYTES // 3 + 10)).encode()
    head = data[:CHARSET_SNIFF_BYTES]
    assert len(head) % 3 != 0
    assert detect_charset(head) == "utf-8"


# --- Empty and refused files -----------------------------------------------------------------


def test_api_empty_upload_names_the_file(alice, client_for, alice_task):
    response = client_for(alice).post(f"/api/v1/tasks/{alice_task.pk}/evidence/", {
        "file": SimpleUploadedFile("会议记录.pdf", b""),
    }, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "文件为空：会议记录.pdf"
    assert body["fields"] == {"file": ["文件为空：会议记录.pdf"]}
    assert not Evidence.objects.exists()


def test_api_refused_type_is_named(alice, client_for, alice_task):
    response = client_for(alice).post(f"/api/v1/tasks/{alice_task.pk}/evidence/", {
        "file": SimpleUploadedFile("工具.exe", b"MZ\x90\x00"),
    }, format="multipart")
    assert response.status_code == 400
    assert response.json()["fields"] == {"file": ["工具.exe：文件类型不允许"]}


def test_page_names_the_refused_file_among_several_and_stores_none(alice_client, alice_task):
    response = alice_client.post(f"/tasks/{alice_task.pk}/evidence/", {
        "evidence-version": alice_task.version,
        "evidence-files": [pdf_upload("整改报告.pdf"), SimpleUploadedFile("工具.exe", b"MZ"),
                           SimpleUploadedFile("空白.pdf", b"")],
    })
    assert response.status_code == 400
    page = response.content.decode()
    assert "工具.exe：文件类型不允许" in page
    assert "文件为空：空白.pdf" in page
    assert "整改报告.pdf：" not in page  # the good file is not blamed
    assert not Evidence.objects.exists()  # and not stored alone either


def test_progress_form_names_an_empty_file(alice_client, alice_task):
    response = alice_client.post(f"/tasks/{alice_task.pk}/progress/", {
        "note": "进展", "version": alice_task.version,
        "files": [pdf_upload(), SimpleUploadedFile("附件二.pdf", b"")],
    })
    assert response.status_code == 400
    assert "文件为空：附件二.pdf" in response.content.decode()
    assert not ProgressReport.objects.filter(task=alice_task).exists()
    assert not Evidence.objects.exists()
