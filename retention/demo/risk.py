"""A demo subscriber's churn risk, from the facts their story drew."""

from typing import Any

from retention.demo.story import Story
from retention.demo.units import DAY, eur, said
from retention.demo.world import World


def churn_risk(world: World, story: Story) -> tuple[int, list[dict[str, Any]]]:
    """Churn risk from 0 to 100 and its reasons (phrases, said in the reader's language)."""
    if story.cancelled:
        return 0, []
    score, reasons = _price_risk(story, tenure_days=world.today_day - story.signup_day)
    if story.outages_12m:
        score += min(30, 9 * story.outages_12m)
        reasons.append(said("risk.outages", count=story.outages_12m))
    if story.arrears:
        score += 15 + 5 * min(story.arrears_months, 3)
        reasons.append(said("risk.arrears", amount=eur(story.arrears), count=story.arrears_months))
    recent = world.now - 90 * DAY
    tickets = sum(1 for e in story.events if e[1] == "ticket" and e[0] >= recent)
    if tickets:
        score += min(15, 6 * tickets)
        reasons.append(said("risk.tickets", count=tickets))
    if story.promo_ends_on is not None:
        days = (story.promo_ends_on - world.today).days
        if 0 <= days <= 60:
            score += 15
            reasons.append(said("risk.discount_ends", days=days))
    if not story.current_plan.is_sold:
        score += 5
        reasons.append(said("risk.old_plan", plan=story.current_plan.name))
    return min(score, 100), reasons


def _price_risk(story: Story, *, tenure_days: int) -> tuple[int, list[dict[str, Any]]]:
    """The base score, and the loyalty penalty: paying more than a new customer would, the
    more so after years."""
    score = 5
    reasons = []
    monthly, new_cents = story.monthly, story.current_plan.new_cents
    if monthly > new_cents and new_cents:
        penalty = monthly - new_cents
        percent = penalty * 100 // new_cents
        score += min(35, percent * 7 // 10)
        reasons.append(said("risk.loyalty_penalty", amount=eur(penalty), percent=percent))
        if tenure_days > 5 * 365:
            score += 5
            reasons.append(said("risk.long_tenure", years=tenure_days // 365))
    return score, reasons
