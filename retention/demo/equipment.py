"""A demo subscriber's equipment: what was shipped at signup for their plan, what came back
when they left, and the faulty box replaced now and then."""

from datetime import date

from retention.demo.plans import GEAR
from retention.demo.rows import EquipmentRow
from retention.demo.story import Story
from retention.demo.units import DAY, as_json, date_of, epoch_day, scramble
from retention.demo.world import World


def ship_equipment(world: World, story: Story, first_equipment_id: int) -> int:
    """The kit shipped after signup, in one parcel; returns the next equipment id."""
    kit = _kit(world, story)
    ship_day = story.signup_day + 1 + world.randrange(3)
    returned = story.cancelled and story.end_day < world.today_day - 30
    eq_id = first_equipment_id
    shipped_names = []
    for key in kit:
        item = _item(world, story, key, eq_id, ship_day, returned=returned)
        story.equipment.append(item)
        shipped_names.append(f"{item.model_name} ({item.serial})")
        eq_id += 1
    story.ship_day = ship_day
    story.events.append(
        (
            ship_day * DAY + (7 + world.randrange(8)) * 3600,
            "equipment_shipped",
            "logistics",
            f"SHP-{story.equipment[0].serial}",
            "Shipped " + ", ".join(shipped_names),
            as_json(serials=[e.serial for e in story.equipment], items=", ".join(shipped_names)),
        )
    )
    return eq_id


def _kit(world: World, story: Story) -> list[str]:
    """What is installed at signup for the plan's gear (GEAR's keys)."""
    rnd, randrange, gear = world.rnd, world.randrange, story.plan.gear
    residential = story.segment == "residential"
    kit: list[str] = []
    if not residential:
        kit = ["ont", "business"] if "fibre" in gear else ["lte"]
    elif gear.startswith("fibre"):
        kit = ["ont_combo"] if rnd() < 0.6 else ["ont", ("router", "router_keenetic")[randrange(2)]]
    elif gear.startswith("dsl"):
        kit = ["modem_dsl"]
    elif gear.startswith("cable"):
        kit = ["modem_cable"]
    else:
        kit = [("lte", "lte_zte")[randrange(2)]]
    if gear.endswith("+tv") or (residential and rnd() < 0.08):
        kit.append("stb")
    if residential and rnd() < 0.05:
        kit.append("mesh")
    return kit


def _item(
    world: World, story: Story, key: str, eq_id: int, ship_day: int, *, returned: bool
) -> EquipmentRow:
    """One box on loan; after a cancellation, back (or lost), or asked back."""
    rnd, randrange = world.rnd, world.randrange
    kind, model, prefix = GEAR[key]
    serial = f"{prefix}{scramble(eq_id, world.salt):08X}"
    status, return_method = "on_loan", ""
    return_due: date | None = None
    back: date | None = None
    if returned:
        status = "returned"
        return_method = ("courier", "drop_off", "mail")[randrange(3)]
        back = date_of(story.end_day + randrange(1, 25))
        if rnd() < 0.05:
            status, back = "lost", None
    elif story.cancelled:
        status = "return_requested"
        return_method = ("courier", "drop_off", "mail", "")[randrange(4)]
        return_due = date_of(story.end_day + 30)
    return EquipmentRow(
        eq_id, story.sid, kind, model, serial, status, return_method, return_due,
        date_of(ship_day), back,
    )  # fmt: skip


def cancellation(story: Story) -> None:
    """The request to end the contract, and the equipment that came back since."""
    add = story.events.append
    add(
        (
            (story.end_day - 14) * DAY + 11 * 3600,
            "cancellation_request",
            "desk",
            None,
            "Asked to end the contract",
            f'{{"effective": "{date_of(story.end_day).isoformat()}"}}',
        )
    )
    for item in story.equipment:
        if item.returned_on:
            add(
                (
                    epoch_day(item.returned_on) * DAY + 13 * 3600,
                    "equipment_returned",
                    "logistics",
                    f"RET-{item.serial}",
                    f"Returned {item.model_name} ({item.serial})",
                    as_json(
                        serial=item.serial,
                        method=item.return_method,
                        item=f"{item.model_name} ({item.serial})",
                    ),
                )
            )


def replacement(world: World, story: Story, eq_id: int) -> None:
    """Now and then a faulty box replaced: the old one came back, a new one of the model went
    out."""
    if not (world.rnd() < 0.08 and world.today_day - story.ship_day > 400):
        return
    equipment, ship_day = story.equipment, story.ship_day
    old = equipment[0]
    prefix = old.serial.rstrip("0123456789ABCDEF")
    day = ship_day + world.randrange(200, world.today_day - ship_day - 10)
    equipment[0] = old._replace(
        status="returned", return_method="courier", returned_on=date_of(day + 5)
    )
    serial = f"{prefix}{scramble(eq_id, world.salt):08X}"
    new = EquipmentRow(
        eq_id, story.sid, old.kind, old.model_name, serial, "on_loan", "", None, date_of(day), None
    )
    equipment.append(new)
    _replaced(story, old, serial, day)


def _replaced(story: Story, old: EquipmentRow, serial: str, day: int) -> None:
    story.events.append(
        (
            day * DAY + 10 * 3600,
            "equipment_shipped",
            "logistics",
            f"SHP-{serial}",
            f"Shipped replacement {old.model_name} ({serial})",
            as_json(serials=[serial], replaces=old.serial, items=f"{old.model_name} ({serial})"),
        )
    )
    story.events.append(
        (
            (day + 5) * DAY + 15 * 3600,
            "equipment_returned",
            "logistics",
            f"RET-{old.serial}",
            f"Returned {old.model_name} ({old.serial})",
            as_json(serial=old.serial, method="courier", item=f"{old.model_name} ({old.serial})"),
        )
    )
