"""Telling people: the outbox, webhooks and their delivery, deadline reminders."""
