"""Notifications, the email outbox (any event kind), their wording and delivery."""
