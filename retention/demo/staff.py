"""The demo's staff: teams, and agents whose work the demo history shows."""

from django.contrib.auth.models import Group
from django.db import transaction

from retention.core.roles import Role
from retention.models import Team, User

DEMO_TEAMS = ("Riga", "Regions", "Business")
# username, first name, last name, team: agents with no password, whose work the demo's history
# shows (nobody logs in as them).
DEMO_AGENTS = (
    ("anna.ozolina", "Anna", "Ozoliņa", "Riga"),
    ("janis.berzins", "Jānis", "Bērziņš", "Riga"),
    ("olga.ivanova", "Olga", "Ivanova", "Riga"),
    ("martins.kalns", "Mārtiņš", "Kalns", "Regions"),
    ("dace.liepina", "Dace", "Liepiņa", "Regions"),
    ("sergejs.petrovs", "Sergejs", "Petrovs", "Regions"),
    ("inese.zarina", "Inese", "Zariņa", "Business"),
    ("pavel.smirnov", "Pavel", "Smirnov", "Business"),
)
# The demo logins of retention.system.services.DEMO_USERS, and their teams.
DEMO_USER_TEAMS = {"agent": "Riga", "manager": "Riga", "lead": "Regions"}


def demo_staff_ensure() -> list[User]:
    """The demo teams and agents, and the demo logins put into teams; returns the agents whose
    cases the demo history shows (the demo agent login among them, when it exists).
    Idempotent; development data only."""
    with transaction.atomic():
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in DEMO_TEAMS}
        group = Group.objects.get_or_create(name=Role.AGENT)[0]
        agents = []
        for username, first_name, last_name, team in DEMO_AGENTS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first_name, "last_name": last_name, "team": teams[team]},
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            agents.append(user)
        group.user_set.add(*agents)
        for username, team in DEMO_USER_TEAMS.items():
            User.objects.filter(username=username, team__isnull=True).update(team=teams[team])
        demo_agent = User.objects.filter(username="agent", groups=group).first()
    return agents + ([demo_agent] if demo_agent else [])
