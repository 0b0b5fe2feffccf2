"""Macros: messages an agent writes to the subscriber from a case, from templates per reason.

One action sends the message (through the outbox, once), logs the contact through the contact
policy, sets the callback and adds the note (services.case_message_send); sending.py delivers
the outbox row with the shared backends of retention.core.messaging.
"""
