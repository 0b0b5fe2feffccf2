"""What the demo's billing, support and staff wrote on the timelines: shown as written, in
English, like the data of the systems they come from."""

PAYMENT_METHODS = ("direct_debit",) * 45 + ("card",) * 25 + ("bank_transfer",) * 22 + ("cash",) * 8
PAYMENT_LABEL = {
    "direct_debit": "direct debit",
    "card": "card",
    "bank_transfer": "bank transfer",
    "cash": "cash at a partner point",
}
TICKET_TOPICS = (
    ("slow", "slow Wi-Fi in the evenings"),
    ("billing", "question about the last invoice"),
    ("router", "router keeps restarting"),
    ("tv", "TV channels missing"),
    ("speed", "speed lower than the plan"),
    ("move", "moving to a new address"),
    ("billing", "asked why the price went up"),
    ("email", "cannot receive e-mail"),
)
OUTAGE_TICKET_TOPICS = (
    "no internet since this morning",
    "connection drops every few minutes",
    "asked for compensation after the outage",
    "internet down, TV down too",
)
CONTACTS = (
    ("outreach", "email", "Loyalty newsletter e-mailed"),
    ("desk", "phone", "Called about a faster plan; customer will think about it"),
    ("desk", "phone", "Inbound call: asked about prices for new customers"),
    ("outreach", "sms", "SMS: planned maintenance notice"),
)
NOTES = (
    "Customer prefers e-mail; works night shifts.",
    "Elderly customer; speak slowly and confirm details.",
    "Asked to be called only after 17:00.",
    "Has a second home in another region; may move service.",
    "Works from home; stability matters more than speed.",
)
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
