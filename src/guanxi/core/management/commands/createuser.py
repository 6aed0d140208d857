"""`guanxi createuser NAME --role ROLE --org-unit CODE --password P`."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from guanxi.core.roles import ROLE_SCOPES
from guanxi.core.services import user_create


class Command(BaseCommand):
    help = "Create a local user with a role and an organisation unit."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(ROLE_SCOPES))
        parser.add_argument("--org-unit", dest="org_unit", default=None, help="organisation unit code")
        parser.add_argument("--password", required=True)
        parser.add_argument("--name", default="", help="full name")
        parser.add_argument("--email", default="")
        parser.add_argument("--language", default="", choices=["", "zh-hans", "en"])

    def handle(self, *args, **options) -> None:
        try:
            user = user_create(
                username=options["username"],
                password=options["password"],
                role=options["role"],
                org_unit_code=options["org_unit"],
                full_name=options["name"],
                email=options["email"],
                language=options["language"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(f"created {user.username} ({options['role']})")
