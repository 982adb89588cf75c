"""Domain errors. Each carries a stable machine code and a Chinese message for people.

The API's exception handler maps them to one error shape; the admin shows the message.
"""


class DomainError(Exception):
    code = "domain_error"
    status_code = 400
    default_message = "操作未能完成"

    def __init__(self, message: str | None = None, *, fields: dict[str, str] | None = None):
        self.message = message or self.default_message
        self.fields = fields or {}
        super().__init__(self.message)


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"
    status_code = 409
    default_message = "当前状态下不能执行该操作"


class ActionForbidden(DomainError):
    code = "permission_denied"
    status_code = 403
    default_message = "您没有执行该操作的权限"


class StaleWrite(DomainError):
    code = "stale_version"
    status_code = 409
    default_message = "任务已被他人修改，请刷新后再操作"


class InvalidInput(DomainError):
    code = "invalid"
    status_code = 400
    default_message = "输入有误"


class ImportRejected(InvalidInput):
    """A ledger file was refused as a whole; `errors` lists every reason, one per line
    ("第5行：责任单位“市教育厅”不存在"). Nothing was stored."""

    code = "import_rejected"
    default_message = "整改台账有误，未导入任何内容"

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__(
            f"整改台账有{len(self.errors)}处错误，未导入任何内容",
            fields={"file": "\n".join(self.errors)},
        )


class LoginLocked(DomainError):
    code = "login_locked"
    status_code = 429
    default_message = "登录失败次数过多，账号已暂时锁定，请稍后再试"

    def __init__(self, message: str | None = None, *, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status_code = 400
    default_message = "用户名或密码错误"
