from django.core.management.base import BaseCommand

from retention.system.services import DEMO_USERS, demo_users_ensure


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo agent, manager, retention lead and admin, and print their "
        "logins."
    )

    def handle(self, *args: object, **options: object) -> None:
        demo_users_ensure()
        self.stdout.write(self.style.SUCCESS("Demo logins (development only):"))
        width = max(len(demo.title) for demo in DEMO_USERS)
        for demo in DEMO_USERS:
            self.stdout.write(
                f"  {demo.title:<{width}}  username {demo.username:<8} password {demo.password}"
            )
        self.stdout.write(
            "Open http://127.0.0.1:8000/ — press Ctrl-C to stop web, worker and beat."
        )
