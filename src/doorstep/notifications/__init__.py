"""Notifications: e-mail (SMTP) and SMS (a Twilio-compatible API) to shoppers, drivers and
partner-store staff, queued in the caller's transaction and sent by a job.

Other domains call `doorstep.notifications.service.send`; ``doorstep worker`` runs the
sending job (`worker.register`); ``/dev/outbox`` shows every message outside production.
Operators read docs/notifications.md.
"""
