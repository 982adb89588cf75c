"""`manage.py changepassword`, as Django's, but the password is changed through
tracker.services.users.user_set_password, so the user's API tokens are revoked too.
(Overrides django.contrib.auth's command: "tracker" comes before it in INSTALLED_APPS.)"""

from django.contrib.auth.management.commands import changepassword
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from tracker.models import User
from tracker.services.users import user_set_password

MAX_TRIES = 3


class Command(changepassword.Command):
    help = "修改用户密码（同时作废该用户的全部 API 令牌）"

    def handle(self, *args, **options):
        username = options["username"] or changepassword.getpass.getuser()
        try:
            user = User._default_manager.using(options["database"]).get(username=username)
        except User.DoesNotExist as error:
            raise CommandError(f"用户“{username}”不存在") from error
        self.stdout.write(f"正在修改用户“{user.get_username()}”的密码")
        for _ in range(MAX_TRIES):
            first = self._get_pass("新密码：")
            second = self._get_pass("再次输入新密码：")
            if first != second:
                self.stdout.write("两次输入的密码不一致，请重试")
                continue
            try:
                validate_password(second, user)
            except ValidationError as error:
                self.stderr.write("\n".join(error.messages))
                continue
            user_set_password(user=user, password=first, actor=None)
            return f"用户“{user.get_username()}”的密码已修改，其 API 令牌已全部作废"
        raise CommandError(f"已尝试{MAX_TRIES}次，未修改用户“{user.get_username()}”的密码")
