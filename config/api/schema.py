"""OpenAPI additions: every operation documents the one error shape for its refusals."""

ERROR_COMPONENT = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "稳定的机器可读错误码"},
        "detail": {"type": "string", "description": "中文说明"},
        "fields": {
            "type": "object",
            "description": "按字段的错误信息",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["code", "detail", "fields"],
}
ERRORS = {
    "400": "输入有误",
    "401": "未登录",
    "403": "无权执行该操作",
    "404": "不存在或不在您的可见范围内",
    "405": "不支持的请求方法",
    "409": "状态冲突或版本已变",
    "412": "If-Match 与当前版本不符",
    "415": "不支持的请求内容类型",
    "428": "缺少版本号",
    "429": "请求过于频繁或登录已锁定",
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {
                        "schema": ref}}},
                )
    return result


def refuse_unknown_request_fields(result, generator, request, public):
    """Request bodies admit only their documented fields: every write serializer refuses
    others (config.api.serializers.RefuseUnknownFieldsMixin), and the schema says so."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result
