import json

from reports.parsing import extract, to_json


def test_json_shape_and_null_semantics():
    text = "江屿市纪委工作汇报\n反馈问题10个，已完成整改X个。\n二、存在的问题\n一是慢。二是散。"
    document = to_json(extract(text))
    assert json.loads(json.dumps(document, ensure_ascii=False)) == {
        "figures": [
            {
                "kind": "progress",
                "body": None,
                "counting_word": "个",
                "total": 10,
                "completed": None,
                "basically_completed": None,
                "long_term": None,
                "not_completed": None,
                "in_progress": None,
                "quote": "反馈问题10个，已完成整改X个",
                "start": 10,
                "end": 25,
                "counted_noun": "问题",
                "category": "rectification",
                "source": None,
                "rate": None,
                "levels": [],
                "other_counts": [],
                "adds_up": None,
                "confidence": "low",
            }
        ],
        "problems": [
            {"text": "慢。", "start": 37, "end": 39},
            {"text": "散。", "start": 41, "end": 43},
        ],
        "measures": None,
        "metadata": {
            "title": "江屿市纪委工作汇报",
            "issuing_body": "江屿市纪委",
            "year": None,
            "period": None,
            "date": None,
        },
    }
