"""What happened to a demo subscriber between the bills: outages of their network node and the
tickets that followed, other support tickets, a contact from the desk, a note."""

import bisect

from retention.demo.story import Story
from retention.demo.texts import CONTACTS, NOTES, OUTAGE_TICKET_TOPICS, TICKET_TOPICS
from retention.demo.units import DAY, as_json
from retention.demo.world import World


def outages(world: World, story: Story) -> None:
    """Every outage of the subscriber's network node during their tenure; some of them bring
    a ticket."""
    rnd, randrange, now, add = world.rnd, world.randrange, world.now, story.events.append
    nodes = world.nodes[story.region]
    node = nodes[randrange(len(nodes))]
    start_at, end_at = story.start_at, story.end_at
    outages_12m = 0
    year_ago = now - 365 * DAY
    for start, incident, summary, data in node.outages[bisect.bisect_left(node.starts, start_at) :]:
        if start >= end_at or start >= now:
            break
        add((start, "outage", "network", f"{incident}/{story.account}", summary, data))
        if start >= year_ago:
            outages_12m += 1
        if rnd() < 0.3:
            at = start + 1800 + randrange(30 * 3600)
            if at < now:
                add(
                    (
                        at,
                        "ticket",
                        "support",
                        "",
                        "Ticket: " + OUTAGE_TICKET_TOPICS[randrange(len(OUTAGE_TICKET_TOPICS))],
                        f'{{"topic": "outage", "incident": "{incident}", "status": "closed"}}',
                    )
                )
    story.outages_12m = outages_12m


def tickets(world: World, story: Story) -> None:
    """Support tickets of their own; businesses write in more."""
    rnd, randrange, now = world.rnd, world.randrange, world.now
    start_at, end_at = story.start_at, story.end_at
    for _ in range(int(rnd() * 2.2 + (0.8 if story.seg_key != "r" else 0))):
        at = start_at + randrange(max(end_at - start_at, DAY))
        if at < now:
            topic, text = TICKET_TOPICS[randrange(len(TICKET_TOPICS))]
            story.events.append(
                (
                    at,
                    "ticket",
                    "support",
                    "",
                    f"Ticket: {text}",
                    as_json(topic=topic, status="open" if now - at < 5 * DAY else "closed"),
                )
            )


def contact(world: World, story: Story) -> None:
    """For a few, a contact from the desk or an outreach campaign."""
    if world.rnd() < 0.12:
        source, channel, text = CONTACTS[world.randrange(len(CONTACTS))]
        story.events.append(
            (
                max(story.start_at, story.end_at - world.randrange(30, 700) * DAY) + 10 * 3600,
                "contact",
                source,
                None,
                text,
                f'{{"channel": "{channel}", "direction": "outbound"}}',
            )
        )


def note(world: World, story: Story) -> None:
    """For a few, a note the desk wrote about them."""
    if world.rnd() < 0.06:
        randrange, start_at = world.randrange, story.start_at
        story.events.append(
            (
                min(start_at + randrange(max(story.end_at - start_at, DAY)), world.now - 60),
                "note",
                "desk",
                None,
                NOTES[randrange(len(NOTES))],
                "{}",
            )
        )
